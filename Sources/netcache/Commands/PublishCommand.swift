import ArgumentParser
import BinaryCache
import NetcacheProtocol

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Archive a built release and publish it to the binary cache.",
        discussion: """
            Packs <software_root>/<md5(URL)> once into a deterministic pax tar (the same tree \
            gives the same bytes, so republishing uploads nothing), compressed with zstd for \
            netcache (key netcache:<md5>) and, while legacy compatibility is on, with gzip for \
            unmodified SlapOS nodes (key <md5>). Every entry is signed. The netcache entry also \
            records abi (the libraries and symbol versions the tree's ELF files need from \
            outside it) and relocation (whether the tree can move to another software_root, and \
            the manifest blob that lists where the root occurs, uploaded before the entry).

            Left out, and listed: .netrc files at any depth, sockets, FIFOs, devices, and what \
            matches --exclude or binary-cache-exclude. A release holding a .shared marker or \
            on upload-to-binary-cache-url-blacklist is skipped (exit 0).
            """
    )

    @OptionGroup var options: BinaryCacheOptions

    @OptionGroup var progress: ProgressOptions

    @Option(help: ArgumentHelp("URL of the software release.", valueName: "url"))
    var softwareURL: String

    @Option(help: ArgumentHelp("Leave out paths matching this fnmatch pattern (repeatable).", valueName: "pattern"))
    var exclude: [String] = []

    @Flag(help: "Publish netcache's zstd archive only, not the legacy gzip one.")
    var noLegacy = false

    @Option(help: ArgumentHelp("Nodes stop installing the netcache entry after this date (ISO 8601).", valueName: "date"))
    var expires: DateArgument?

    @Flag(help: "Print one JSON document at the end instead: the archives published (key, format, size, sha512, state), what was left out, and the seconds taken.")
    var json = false

    func run() throws {
        Interruption.watch()
        var summary = JSONSummary()
        var settings = try options.settings()
        settings.excludePatterns += exclude
        if noLegacy { settings.legacy = false }
        var publisher = Publisher(settings: settings)
        publisher.expires = expires?.date
        let display = progress.display()
        defer { display?.finish() }
        publisher.onPacked = display.map { display in { files, bytes in display.count("packed", files: files, bytes: bytes) } }
        let outcome = try publisher.publish(softwareURL: softwareURL)
        display?.finish()
        for warning in publisher.warnings { printWarning(warning) }
        if json {
            summarise(outcome, publisher, into: &summary)
            try summary.print()
            return
        }
        for (path, reason) in publisher.excluded { try printFlushed("left out: \(path) (\(reason))") }
        for path in publisher.privilegeBitsDropped { try printFlushed("setuid/setgid bit dropped: \(path)") }
        switch outcome {
        case .skipped(let reason):
            try printFlushed("skipped: \(reason)")
        case .published(let archives):
            for archive in archives {
                let state = archive.indexed ? "published" : "unchanged"
                try printFlushed("\(state): \(archive.key) \(archive.entry.format.rawValue) \(archive.entry.size ?? 0) bytes sha512 \(archive.entry.sha512)")
            }
        }
    }

    private func summarise(_ outcome: Publisher.Outcome, _ publisher: Publisher, into summary: inout JSONSummary) {
        summary.add("software_url", softwareURL)
        switch outcome {
        case .skipped(let reason):
            summary.add("outcome", "skipped")
            summary.add("reason", reason)
        case .published(let archives):
            summary.add("outcome", "published")
            summary.add("archives", .array(archives.map(Self.json)))
        }
        let leftOut = publisher.excluded.map { JSONValue.object(JSONObject([("path", .string($0.0)), ("reason", .string($0.1))])) }
        summary.add("left_out", .array(leftOut))
        summary.add("setuid_dropped", .array(publisher.privilegeBitsDropped.map { .string($0) }))
        summary.add("new_chunks", .integer(publisher.storedChunks.chunks))
        summary.add("new_chunk_bytes", .integer(publisher.storedChunks.bytes))
    }

    private static func json(_ archive: Publisher.PublishedArchive) -> JSONValue {
        let fields: [(key: String, value: JSONValue)] = [
            ("key", .string(archive.key)), ("format", .string(archive.entry.format.rawValue)),
            ("size", archive.entry.size.map { .integer($0) } ?? .null), ("sha512", .string(archive.entry.sha512)),
            ("state", .string(archive.indexed ? "published" : "unchanged")),
        ]
        return .object(JSONObject(fields))
    }
}
