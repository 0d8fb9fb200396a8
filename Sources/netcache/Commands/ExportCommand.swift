import ArgumentParser
import Foundation
import NetcacheServer

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write shadir entries and their blobs from a data directory to a bundle, for an offline site.",
        discussion: """
            Takes the entries of each --key (every key without one) and every blob they name, and \
            writes them to a tar that `netcache import` loads into another data directory; a chunked \
            release's chunks go with its entry. Only reads: it may run beside the server of that \
            directory. Prints "ENTRIES entries, BLOBS blobs".

            With --have, the blobs the site holds already are left out: those of a bundle it \
            imported, or the chunks of a chunk index (one a node keeps in \
            <software_root>/.netcache-indexes/<md5> for each release it installed): the bundle then \
            carries only what changed.
            """
    )

    @Option(help: ArgumentHelp("The data directory to read.", valueName: "dir"))
    var data = "netcache-data"

    @Option(name: [.customShort("k"), .customLong("key")], help: ArgumentHelp("A shadir key to take (repeatable; default: every key).", valueName: "key"))
    var keys: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The bundle to write.", valueName: "bundle.tar"))
    var output: String

    @Option(help: ArgumentHelp("A bundle the site imported, or a chunk index of a release it has: leave out the blobs it holds (repeatable).", valueName: "bundle-or-index"))
    var have: [String] = []

    @OptionGroup var progress: ProgressOptions

    func run() async throws {
        try DataDirectoryPresence.requireExisting(URL(fileURLWithPath: data), option: "--data")
        let display = progress.display()
        defer { display?.finish() }
        let held = try have.reduce(into: Set<String>()) { $0.formUnion(try SiteHoldings.blobs(heldBy: $1)) }
        let summary = try await BundleExport.write(
            dataDirectory: URL(fileURLWithPath: data), keys: keys.isEmpty ? nil : keys, have: held, to: output, warn: printWarning,
            progress: { blobs, bytes in display?.count("exported", files: blobs, bytes: bytes) })
        display?.finish()
        try printFlushed("\(summary.entries) entries, \(summary.blobs) blobs")
    }
}
