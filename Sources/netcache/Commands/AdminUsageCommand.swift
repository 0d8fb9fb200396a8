import ArgumentParser
import Logging
import NetcacheProtocol
import NetcacheServer

struct AdminUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Report what the cache holds: blobs and bytes, entries per key kind, the largest releases."
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
                ("blobs", .integer(usage.blobs)), ("bytes", .integer(usage.bytes)), ("entries_by_kind", .array(kinds)), ("largest_releases", .array(releases)),
            ]
            try printFlushed(JSONValue.object(JSONObject(document)).pythonJSON)
            return
        }
        try printFlushed("blobs: \(usage.blobs), \(usage.bytes) bytes")
        for kind in usage.entriesByKind { try printFlushed("entries \(kind.kind): \(kind.entries)") }
        for release in usage.largestReleases { try printFlushed("release \(release.key): \(release.bytes) bytes") }
    }
}
