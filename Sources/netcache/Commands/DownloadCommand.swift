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

    func validate() throws {
        if (url == nil) == (key == nil) { throw ValidationError("give exactly one of --url and --key") }
    }

    func run() throws {
        let filters = try criteria.map(Criterion.init(parsing:))
        let cache = try client.networkCache()
        let matches = filters.filter(try cache.select(key: key ?? DownloadKey.url(url!)))
        guard let first = matches.first else {
            throw CommandError("No result found with given criteria.")
        }
        if list {
            printFlushed(JSONValue.array(matches.map(JSONValue.object)).pythonIndentedSortedJSON)
            return
        }
        let sha512 = first["sha512"]!.stringValue!
        let display = progress.display()
        defer { display?.finish() }
        if let output {
            let file = try OutputFile(path: output)
            try cache.shacache.download(sha512) { try file.write($0) }
            try file.commit()
        } else {
            try cache.shacache.download(sha512) { try FileHandle.standardOutput.write(contentsOf: $0) }
        }
    }
}
