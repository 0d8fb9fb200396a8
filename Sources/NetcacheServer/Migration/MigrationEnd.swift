import Foundation
import Logging

/// One side of `netcache migrate`: a data directory, or remote backends, or a data directory
/// for one kind (blobs or entries) and a remote backend for the other.
public struct MigrationEnd: Sendable {
    public var dataDirectory: URL?
    public var blobs: BlobBackend?
    public var entries: EntryBackend?

    public init(dataDirectory: URL?, blobs: BlobBackend?, entries: EntryBackend?) {
        self.dataDirectory = dataDirectory
        self.blobs = blobs
        self.entries = entries
    }

    /// Whether a kind is in the data directory: named by no URL, the directory holds it.
    var usesDataDirectory: Bool {
        if case .s3 = blobs, case .postgresql = entries { return false }
        return true
    }

    /// The backends of this end. A source's data directory is only read, without its lock,
    /// so that a migration may run beside the server that owns it; a destination's is locked.
    func open(asSource: Bool, side: String, logger: Logger) throws -> (StorageBackends, DataDirectoryLock?, URL?) {
        if usesDataDirectory && dataDirectory == nil {
            throw ServerConfigurationError("the \(side) needs a data directory (--\(side)) for what no --\(side)-store or --\(side)-directory names")
        }
        var lock: DataDirectoryLock?
        var scratch: URL?
        let staging: Staging
        if let dataDirectory, usesDataDirectory, !asSource {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            lock = try DataDirectoryLock(dataDirectory: dataDirectory)
            staging = try Staging(dataDirectory: dataDirectory, minimumFreeSpace: nil)
        } else {
            // Only copies pass through it: a private directory, removed at the end.
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("netcache-migrate-\(UUID().uuidString)")
            staging = try Staging(dataDirectory: temporary, minimumFreeSpace: 0)
            scratch = temporary
        }
        if asSource, let dataDirectory, usesDataDirectory {
            let database = dataDirectory.appendingPathComponent("shadir.sqlite").path
            if entries == nil && !FileManager.default.fileExists(atPath: database) {
                throw ServerConfigurationError("\(dataDirectory.path) is not a netcache data directory (no shadir.sqlite)")
            }
        }
        let backends = try StorageBackends(
            blobs: blobs ?? .dataDirectory, entries: entries ?? .dataDirectory, dataDirectory: dataDirectory ?? scratch!, staging: staging, logger: logger)
        return (backends, lock, scratch)
    }
}
