import ArgumentParser
import Foundation
import NetcacheServer

/// Which storage an `admin` command works on: the data directory, with `--store` or
/// `--directory` for a kind that lives in S3 or PostgreSQL.
struct StorageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory; no server may run on it meanwhile.", valueName: "dir"))
    var data = "netcache-data"

    @Option(help: ArgumentHelp("Blobs in this S3 bucket instead (see the --s3 options).", valueName: "s3://bucket[/prefix]"))
    var store: S3Location?

    @Option(help: ArgumentHelp("Entries in this PostgreSQL database instead.", valueName: "postgresql://..."), transform: { try PostgresAddress($0) })
    var directory: PostgresAddress?

    @OptionGroup(title: "S3 store")
    var s3: S3Options

    func location() throws -> StorageLocation {
        StorageLocation(
            dataDirectory: URL(fileURLWithPath: data), blobs: try store.map { .s3(try s3.settings(for: $0)) },
            entries: directory.map { .postgresql($0) })
    }
}
