import ArgumentParser
import Foundation
import NetcacheClient

struct TrustRootsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roots",
        abstract: "Rotate the roots: publish a version whose roots are the --root certificates.",
        discussion: """
            Nodes accept it only when it is signed by root_threshold of the current roots and by \
            --root-threshold of the new ones: give the keys of both with --root-key, or have the \
            others add theirs with `netcache trust sign`. Nodes that accepted it follow the new \
            roots from then on; new nodes may be given the new roots as signature-root-list.
            """
    )

    @OptionGroup var roots: RootKeyOptions

    @Option(name: .customLong("root"), help: ArgumentHelp("A certificate of the new root list (repeatable).", valueName: "cert.pem"))
    var newRoots: [String] = []

    @Option(help: "How many of the new roots must sign each later version.")
    var rootThreshold = 1

    func run() throws {
        guard !newRoots.isEmpty else { throw ValidationError("give --root") }
        guard rootThreshold >= 1, rootThreshold <= newRoots.count else {
            throw ValidationError("--root-threshold must be between 1 and the number of --root")
        }
        let list = CertificateList(pem: try newRoots.map { try signerCertificate($0).pem }.joined(separator: "\n"))
        let publisher = try roots.publisher()
        let next = try publisher.next(at: Date()) { document in
            document.roots = list
            document.rootThreshold = rootThreshold
        }
        let keys = try roots.keys(rootsOf: [next.previous?.roots ?? publisher.settings.roots, list])
        try roots.report(try publisher.publish(next.document, previous: next.previous, rootKeys: keys))
    }
}
