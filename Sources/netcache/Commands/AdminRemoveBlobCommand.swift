import ArgumentParser
import Logging
import NetcacheProtocol
import NetcacheServer

struct AdminRemoveBlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-blob",
        abstract: "Remove a blob no entry names any more.",
        discussion: "Refused, naming the keys, while an entry still names it. Prints \"removed SHA512\"."
    )

    @OptionGroup var storage: StorageOptions

    @Argument(help: ArgumentHelp("The blob's SHA-512.", valueName: "sha512"))
    var sha512: String

    func validate() throws {
        guard isSHA512Hex(sha512) else { throw ValidationError("a SHA-512 is 128 hexadecimal characters") }
    }

    func run() async throws {
        try await storage.location().administer(logger: Logger(label: "netcache")) { try await $0.removeBlob(sha512.lowercased()) }
        printFlushed("removed \(sha512.lowercased())")
    }
}
