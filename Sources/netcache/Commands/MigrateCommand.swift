import ArgumentParser
import Foundation
import NetcacheClient
import Logging
import NetcacheServer

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy every blob and entry from one set of backends to another (a data directory, S3, PostgreSQL).",
        discussion: """
            Each side is a data directory (--from, --to), with --*-store naming an S3 bucket for \
            its blobs and --*-directory a PostgreSQL database for its entries instead. For \
            example, onto shared backends: `netcache migrate --from netcache-data --to-store \
            s3://bucket/shacache --to-directory postgresql://netcache@db/netcache`, and back: \
            `netcache migrate --from-store s3://bucket/shacache --from-directory \
            postgresql://netcache@db/netcache --to netcache-data`.

            Blobs are copied first, each verified against its SHA-512; then every key's entries, \
            byte for byte, in their order. What the destination already holds is skipped, so an \
            interrupted migration resumes when run again. The source is only read: it may be \
            the data directory of a running server; a second run afterwards copies what came \
            meanwhile. Prints "BLOBS blobs copied (PRESENT already there), ENTRIES entries \
            added (PRESENT already there)".
            """
    )

    @Option(help: ArgumentHelp("The data directory to copy from.", valueName: "dir"))
    var from: String?

    @Option(help: ArgumentHelp("Blobs to copy: an S3 bucket, or a data directory.", valueName: "s3://bucket[/prefix] | dir"))
    var fromStore: BlobStoreArgument?

    @Option(help: ArgumentHelp("Entries to copy: a PostgreSQL database, or a data directory.", valueName: "postgresql://... | dir"), transform: EntryDirectoryArgument.parse)
    var fromDirectory: EntryDirectoryArgument?

    @Option(help: ArgumentHelp("The data directory to copy into (created if missing; no server may run on it).", valueName: "dir"))
    var to: String?

    @Option(help: ArgumentHelp("Where to put blobs: an S3 bucket, or a data directory.", valueName: "s3://bucket[/prefix] | dir"))
    var toStore: BlobStoreArgument?

    @Option(help: ArgumentHelp("Where to put entries: a PostgreSQL database, or a data directory.", valueName: "postgresql://... | dir"), transform: EntryDirectoryArgument.parse)
    var toDirectory: EntryDirectoryArgument?

    @OptionGroup(title: "S3 stores")
    var s3: S3Options

    func run() async throws {
        let source = try end(from, fromStore, fromDirectory, side: "from")
        let destination = try end(to, toStore, toDirectory, side: "to")
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "netcache")
        logger.logLevel = .warning
        let summary = try await Migration(from: source, to: destination, logger: logger).run(warn: printWarning)
        try printFlushed(
            "\(summary.blobsCopied) blobs copied (\(summary.blobsPresent) already there), \(summary.entriesAdded) entries added (\(summary.entriesPresent) already there)")
        if summary.blobsCorrupt > 0 {
            StandardError.write("netcache: \(summary.blobsCorrupt) blob(s) of the source do not match their SHA-512 and were not copied\n")
            throw ExitCode(1)
        }
    }

    /// One side; a data directory given with --*-store or --*-directory serves that kind.
    private func end(_ directory: String?, _ store: BlobStoreArgument?, _ entries: EntryDirectoryArgument?, side: String) throws -> StorageLocation {
        var dataDirectory = directory.map { URL(fileURLWithPath: $0) }
        func use(_ path: String) throws {
            let url = URL(fileURLWithPath: path)
            if let dataDirectory, dataDirectory.standardizedFileURL != url.standardizedFileURL {
                throw ValidationError("the \(side) side names two data directories, \(dataDirectory.path) and \(path)")
            }
            dataDirectory = url
        }
        var blobs: BlobBackend?
        switch store {
        case .s3(let location): blobs = .s3(try s3.settings(for: location))
        case .dataDirectory(let path): try use(path)
        case nil: break
        }
        var directoryBackend: EntryBackend?
        switch entries {
        case .postgresql(let address): directoryBackend = .postgresql(address)
        case .dataDirectory(let path): try use(path)
        case nil: break
        }
        if dataDirectory == nil && (blobs == nil || directoryBackend == nil) {
            throw ValidationError("say where to copy \(side == "from" ? "from" : "to"): --\(side) DIR, or both --\(side)-store and --\(side)-directory")
        }
        return StorageLocation(dataDirectory: dataDirectory, blobs: blobs, entries: directoryBackend)
    }
}
