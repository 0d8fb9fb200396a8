import ArgumentParser
import Foundation
import NetcacheServer

/// Which storage an `admin` command works on: the data directory, with `--store` or
/// `--directory` for a kind that lives in S3 or PostgreSQL.
struct StorageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory; no server may run on it meanwhile.", valueName: "dir"))
    var data = "netcache-data"

    @OptionGroup var backends: BackendOptions

    func location() throws -> StorageLocation {
        StorageLocation(dataDirectory: URL(fileURLWithPath: data), blobs: try backends.blobBackend(), entries: backends.entryBackend)
    }
}
