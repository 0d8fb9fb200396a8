import Foundation

/// A data directory written without a server, by `import` and `mirror pull --data`: its
/// lock is held meanwhile, so that no server runs on it, and blobs count only once they
/// hash to the address they were fetched for.
public final class LocalDataDirectory {
    private let lock: DataDirectoryLock
    private let blobs: FileBlobStore
    private let entries: SQLiteEntryDirectory

    /// Only with `create` may the directory be new; `option` names it in messages.
    public init(_ dataDirectory: URL, create: Bool, option: String) throws {
        if create {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } else {
            try DataDirectoryPresence.requireExisting(dataDirectory, option: option)
        }
        lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        blobs = try FileBlobStore(dataDirectory: dataDirectory, staging: Staging(dataDirectory: dataDirectory, minimumFreeSpace: nil))
        entries = try SQLiteEntryDirectory(dataDirectory: dataDirectory)
    }

    public func hasBlob(_ sha512: String) async throws -> Bool {
        try await blobs.size(of: sha512) != nil
    }

    /// Stores what `source` writes as the blob `sha512`; throws, keeping nothing, when it is
    /// not that blob.
    public func storeBlob(_ sha512: String, from source: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) async throws {
        let staged = try blobs.beginUpload()
        try source { try staged.write($0) }
        _ = try await blobs.commit(staged, expected: sha512)
    }

    /// Files a validated body under `key`; whether it was new.
    @discardableResult
    public func file(key: String, body: String) async throws -> Bool {
        try await entries.add(key: key, body: body)
    }
}
