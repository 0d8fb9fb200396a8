import Foundation
import Logging

/// Where a command finds a cache's storage without a server (`migrate`, `admin`): a data
/// directory, remote backends, or a data directory for one kind (blobs or entries) and a
/// remote backend for the other.
public struct StorageLocation: Sendable {
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

    /// The backends, with the data directory's lock and the scratch directory to remove
    /// when done. `readOnly` leaves the data directory unlocked, so that a copy may run
    /// beside the server that owns it; otherwise its lock is held, and no server may run on
    /// it meanwhile. Only with `create` may the data directory be new. `option` names the data
    /// directory's option, for messages.
    func open(readOnly: Bool, create: Bool, option: String, logger: Logger) throws -> (StorageBackends, DataDirectoryLock?, URL?) {
        if usesDataDirectory && dataDirectory == nil {
            throw ServerConfigurationError("a data directory (\(option)) is needed for what no store or directory URL names")
        }
        if let dataDirectory, usesDataDirectory, !create {
            try DataDirectoryPresence.requireExisting(dataDirectory, option: option)
        }
        var lock: DataDirectoryLock?
        var scratch: URL?
        let staging: Staging
        if let dataDirectory, usesDataDirectory, !readOnly {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            lock = try DataDirectoryLock(dataDirectory: dataDirectory)
            staging = try Staging(dataDirectory: dataDirectory, minimumFreeSpace: nil)
        } else {
            // Only copies pass through it: a private directory, removed at the end.
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("netcache-\(UUID().uuidString)")
            staging = try Staging(dataDirectory: temporary, minimumFreeSpace: 0)
            scratch = temporary
        }
        if readOnly, let dataDirectory, usesDataDirectory {
            let database = dataDirectory.appendingPathComponent("shadir.sqlite").path
            if entries == nil && !FileManager.default.fileExists(atPath: database) {
                throw ServerConfigurationError("\(dataDirectory.path) is not a netcache data directory (no shadir.sqlite)")
            }
        }
        let backends = try StorageBackends(
            blobs: blobs ?? .dataDirectory, entries: entries ?? .dataDirectory, dataDirectory: dataDirectory ?? scratch!, staging: staging, logger: logger)
        return (backends, lock, scratch)
    }

    /// Runs `body` on the opened backends, then lets go of the lock and the scratch directory.
    func withBackends<T>(readOnly: Bool, create: Bool, option: String, logger: Logger, _ body: (StorageBackends) async throws -> T) async throws -> T {
        let (backends, lock, scratch) = try open(readOnly: readOnly, create: create, option: option, logger: logger)
        defer {
            withExtendedLifetime(lock) {}
            scratch.map { try? FileManager.default.removeItem(at: $0) }
        }
        return try await backends.run { try await body(backends) }
    }
}
