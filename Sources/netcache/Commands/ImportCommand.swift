import ArgumentParser
import Foundation
import NetcacheServer

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a bundle made by `netcache export` into a data directory.",
        discussion: """
            Every blob must hash to its name; entries are filed byte for byte, each identical \
            entry once, and only once every blob verified. The data directory must not be in use \
            by a server. Prints "BLOBS blobs, ENTRIES entries (NEW new)".
            """
    )

    @Argument(help: ArgumentHelp("The bundle.", valueName: "bundle.tar"))
    var bundle: String

    @Option(help: ArgumentHelp("The data directory to load it into.", valueName: "dir"))
    var data = "netcache-data"

    @OptionGroup var progress: ProgressOptions

    func run() async throws {
        let display = progress.display()
        defer { display?.finish() }
        let summary = try await BundleImport.read(
            bundle, into: URL(fileURLWithPath: data), progress: { blobs, bytes in display?.count("imported", files: blobs, bytes: bytes) })
        display?.finish()
        try printFlushed("\(summary.blobs) blobs, \(summary.entries) entries (\(summary.newEntries) new)")
    }
}
