import ArgumentParser
import Foundation
import NetcacheClient

struct TrustSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Add root signatures to the newest trust document filed, towards its threshold.",
        discussion: """
            Check it first with `netcache trust show --json`: this signs whatever version is \
            newest under the roots' keys.
            """
    )

    @OptionGroup var roots: RootKeyOptions

    func run() throws {
        guard !roots.rootKeys.isEmpty else { throw ValidationError("give --root-key") }
        let publisher = try roots.publisher()
        let keys = try roots.rootKeys.map { try SigningKey(pemFile: $0) }
        try roots.report(try publisher.sign(rootKeys: keys, at: Date()))
    }
}
