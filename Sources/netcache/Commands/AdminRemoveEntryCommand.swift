import ArgumentParser
import Logging
import NetcacheServer

struct AdminRemoveEntryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-entry",
        abstract: "Remove the entries of a key that name a blob.",
        discussion: "The key's other entries keep their order; the blob stays (admin remove-blob removes it once nothing names it). Prints \"N entries removed\"; none is an error."
    )

    @OptionGroup var storage: StorageOptions

    @Argument(help: ArgumentHelp("The shadir key.", valueName: "key"))
    var key: String

    @Argument(help: ArgumentHelp("The SHA-512 the entries name (128 hexadecimal characters).", valueName: "sha512"))
    var sha512: BlobAddress

    func run() async throws {
        let removed = try await storage.location().administer(logger: Logger(label: "netcache")) {
            try await $0.removeEntries(key: key, naming: sha512.description)
        }
        guard removed > 0 else { throw CommandError("no entry under \(key) names \(sha512.description.prefix(16))…") }
        try printFlushed("\(removed) entr\(removed == 1 ? "y" : "ies") removed")
    }
}
