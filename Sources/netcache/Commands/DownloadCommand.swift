import ArgumentParser
import Foundation
import NetcacheClient
import NetcacheProtocol

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download data indexed in shadir (like networkcache-download).",
        discussion: """
            Selects the entries of the key whose signature verifies against \
            signature-certificate-list (all entries when that list is empty), filters them \
            with the criteria, and writes the blob of the first to stdout or --output, \
            checking its SHA-512.

            Each criterion is KEY OP VALUE with OP one of == <= >= < > << >>, applied left to \
            right; VALUE is JSON (quote strings). << and >> keep the entries with the lowest \
            and highest value: 'version>=[4,2]' 'version<<Infinity' selects the oldest \
            version that is at least [4,2].
            """
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var progress: ProgressOptions

    @Option(name: [.customShort("u"), .customLong("url")], help: ArgumentHelp("URL of the data; the key is file-urlmd5:<md5(URL)>.", valueName: "url"))
    var url: String?

    @Option(name: [.customShort("k"), .customLong("key")], help: ArgumentHelp("The key the data is indexed under.", valueName: "key"))
    var key: String?

    @Flag(name: [.customShort("l"), .customLong("list")], help: "List the matching entries (JSON) instead of downloading the first.")
    var list = false

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the data to this file instead of stdout (only once verified).", valueName: "file"))
    var output: String?

    @Argument(help: ArgumentHelp("Filters on the entries' metadata.", valueName: "KEY{==,<=,>=,<,>,<<,>>}VALUE"))
    var criteria: [String] = []

    /// In `run()`, so that a misspelt option is reported as such (`UsageError`).
    private func checkArguments() throws {
        if (url == nil) == (key == nil) { throw ValidationError("give exactly one of --url and --key") }
    }

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Say on stderr the trusted entries found, which criterion passed over each one, and the one taken.")
    var verbose = false

    func run() throws {
        try checkArguments()
        let filters = try criteria.map(Criterion.init(parsing:))
        let cache = try client.networkCache()
        let indexKey = key ?? DownloadKey.url(url ?? "")
        let trusted = try cache.select(key: indexKey)
        let matches = filters.filter(trusted)
        if verbose { explain(trusted, filters, under: indexKey) }
        guard let first = matches.first else {
            if trusted.isEmpty { throw CommandError("no trusted entry under \(indexKey)") }
            if trusted.count == 1 { throw CommandError("the one trusted entry under \(indexKey) does not meet the criteria") }
            throw CommandError("none of the \(trusted.count) trusted entries under \(indexKey) meets the criteria")
        }
        if list {
            try printFlushed(JSONValue.array(matches.map(JSONValue.object)).pythonIndentedSortedJSON)
            return
        }
        guard let sha512 = first["sha512"]?.stringValue else { throw CommandError("the entry taken under \(indexKey) names no sha512") }
        let display = progress.display()
        defer { display?.finish() }
        if let output {
            let file = try OutputFile(path: output)
            try cache.shacache.download(sha512) { try file.write($0) }
            try file.commit()
        } else {
            try cache.shacache.download(sha512) { bytes in
                if let code = writeFully(STDOUT_FILENO, bytes) {
                    throw CommandError("cannot write to standard output: \(String(cString: strerror(code)))")
                }
            }
        }
    }

    /// Which criterion left out each entry: applied one after the other, as the filter does.
    private func explain(_ trusted: [JSONObject], _ filters: [Criterion], under key: String) {
        let say = { (line: String) in StandardError.write("netcache: \(line)\n") }
        let name = { (entry: JSONObject) in String(entry["sha512"]?.stringValue?.prefix(16) ?? "?") + "…" }
        say("\(trusted.count) trusted entr\(trusted.count == 1 ? "y" : "ies") under \(key)")
        var remaining = trusted
        for (index, criterion) in filters.enumerated() {
            let kept = [criterion].filter(remaining)
            for entry in remaining where !kept.contains(entry) { say("\(name(entry)): not taken: \(criteria[index])") }
            remaining = kept
        }
        if let first = remaining.first { say("\(name(first)): taking it, the first that every criterion kept") }
    }
}
