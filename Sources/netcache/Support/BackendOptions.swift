import ArgumentParser
import NetcacheServer

/// `--store`, `--directory` and the S3 options: where a kind lives when not in the data
/// directory, for `serve` and `admin`.
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep blobs in this S3 bucket, as PREFIX/<sha512>, instead of the data directory (see the --s3 options).", valueName: "s3://bucket[/prefix]"))
    var store: S3Location?

    @Option(help: ArgumentHelp("Keep shadir entries in this PostgreSQL database instead of the data directory.", valueName: "postgresql://user[:password]@host[:port]/database"), transform: { try PostgresAddress($0) })
    var directory: PostgresAddress?

    @OptionGroup(title: "S3 store")
    var s3: S3Options

    /// Blobs in S3 when `--store` is given.
    func blobBackend() throws -> BlobBackend? {
        try store.map { .s3(try s3.settings(for: $0)) }
    }

    /// Entries in PostgreSQL when `--directory` is given.
    var entryBackend: EntryBackend? {
        directory.map { .postgresql($0) }
    }
}
