import ArgumentParser
import Logging
import NetcacheProtocol
import NetcacheServer

struct AdminKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List the shadir keys, with their entries and the bytes of the blobs they name.",
        discussion: "Prints one line per key: KEY ENTRIES BYTES, in the order of each key's first entry."
    )

    @OptionGroup var storage: StorageOptions

    @Option(help: ArgumentHelp("Only the keys starting with this (pypi:, file-urlmd5:, netcache:, ...).", valueName: "prefix"))
    var prefix = ""

    @Flag(help: "Print a JSON array of {key, entries, bytes} instead.")
    var json = false

    func run() async throws {
        let keys = try await storage.location().administer(logger: Logger(label: "netcache")) { try await $0.keys(prefix: prefix) }
        if json {
            let rows = keys.map { JSONValue.object(JSONObject([("key", .string($0.key)), ("entries", .integer($0.entries)), ("bytes", .integer($0.bytes))])) }
            try printFlushed(JSONValue.array(rows).pythonJSON)
        } else {
            for key in keys { try printFlushed("\(key.key) \(key.entries) \(key.bytes)") }
        }
    }
}
