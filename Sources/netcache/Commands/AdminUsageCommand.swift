import ArgumentParser
import Logging
import NetcacheProtocol
import NetcacheServer

struct AdminUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Report what the cache holds: blobs and stored bytes, the logical bytes its entries name, entries per key kind, the largest releases.",
        discussion: """
            Stored bytes count each blob once; logical bytes count, for each key, every blob its entries \
            name, a chunked release's chunks included, as if no key shared any: their ratio is what \
            deduplication saves.
            """
    )

    @OptionGroup var storage: StorageOptions

    @Flag(help: "Print one JSON document instead.")
    var json = false

    func run() async throws {
        let usage = try await storage.location().administer(logger: Logger(label: "netcache")) { try await $0.usage() }
        if json {
            let kinds = usage.entriesByKind.map { JSONValue.object(JSONObject([("kind", .string($0.kind)), ("entries", .integer($0.entries))])) }
            let releases = usage.largestReleases.map { JSONValue.object(JSONObject([("key", .string($0.key)), ("bytes", .integer($0.bytes))])) }
            let document: [(key: String, value: JSONValue)] = [
                ("blobs", .integer(usage.blobs)), ("bytes", .integer(usage.bytes)), ("logical_bytes", .integer(usage.logicalBytes)), ("entries_by_kind", .array(kinds)), ("largest_releases", .array(releases)),
            ]
            try printFlushed(JSONValue.object(JSONObject(document)).pythonJSON)
            return
        }
        try printFlushed("blobs: \(usage.blobs), \(usage.bytes) bytes stored")
        try printFlushed("logical: \(usage.logicalBytes) bytes named by entries")
        for kind in usage.entriesByKind { try printFlushed("entries \(kind.kind): \(kind.entries)") }
        for release in usage.largestReleases { try printFlushed("release \(release.key): \(release.bytes) bytes") }
    }
}
