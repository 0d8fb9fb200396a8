import ArgumentParser
import Logging
import NetcacheServer

struct AdminRemoveBlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-blob",
        abstract: "Remove a blob no entry names any more.",
        discussion: "Refused, naming the keys, while an entry still names it. Prints \"removed SHA512\"."
    )

    @OptionGroup var storage: StorageOptions

    @Argument(help: ArgumentHelp("The blob's SHA-512 (128 hexadecimal characters).", valueName: "sha512"))
    var sha512: BlobAddress

    func run() async throws {
        try await storage.location().administer(logger: Logger(label: "netcache")) { try await $0.removeBlob(sha512.description) }
        try printFlushed("removed \(sha512)")
    }
}
