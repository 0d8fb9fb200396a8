import Foundation
import NIOCore
import NIOPosix
import NetcacheProtocol

/// shacache's storage: one file per blob, named by its SHA-512, under `<data>/shacache`.
///
/// Uploads stream into `<data>/staging`, are fsynced, then renamed into place: a crash or
/// a cut connection never leaves a partial blob where readers can see it.
public struct BlobStore: Sendable {
    public let root: URL
    let staging: URL
    let freeSpace: FreeSpace

    public init(dataDirectory: URL, minimumFreeSpace: Int? = nil) throws {
        root = dataDirectory.appendingPathComponent("shacache", isDirectory: true)
        staging = dataDirectory.appendingPathComponent("staging", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        freeSpace = try FreeSpace(directory: staging.path, minimum: minimumFreeSpace)
        try removeLeftoverStagedFiles()
    }

    /// Where the blob with this address lives (two-character fan-out keeps directories small).
    public func path(for sha512: String) -> String {
        Self.path(for: sha512, inDataDirectory: root.deletingLastPathComponent())
    }

    /// The same, for readers that must not open the store (which empties staging): an
    /// export from the data directory of a running server.
    static func path(for sha512: String, inDataDirectory dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("shacache").appendingPathComponent(String(sha512.prefix(2))).appendingPathComponent(sha512).path
    }

    /// The size of a stored blob, or `nil` when it is not stored.
    public func size(of sha512: String) -> Int? {
        var status = stat()
        guard stat(path(for: sha512), &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_size)
    }

    /// Uploads' disk writes, hashing and fsyncs run on threads of their own, never on
    /// Swift's cooperative pool (one thread per core: two here), where two uploads onto a
    /// slow disk would stall every other request; nor on NIO's shared blocking pool.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public func beginUpload() throws -> StagedBlob {
        try StagedBlob(directory: staging)
    }

    /// Writes and hashes the next part of an upload.
    public func append(_ buffer: ByteBuffer, to blob: StagedBlob) async throws {
        try await Self.pool.runIfActive {
            try buffer.withUnsafeReadableBytes { try blob.write($0) }
        }
    }

    /// Makes a finished upload visible under its address. An identical blob already stored
    /// is kept and the new copy dropped, so identical content is stored once. With
    /// `expected`, a blob that is not that one is dropped and `BlobMismatch` thrown.
    public func commit(_ blob: StagedBlob, expected: String? = nil) async throws -> String {
        let sha512 = blob.finish()
        if let expected, expected != sha512 {
            blob.discard()
            throw BlobMismatch(expected: expected, actual: sha512)
        }
        let destination = path(for: sha512)
        try await Self.pool.runIfActive {
            try blob.synchronize()
            let directory = (destination as NSString).deletingLastPathComponent
            if mkdir(directory, 0o755) == 0 {
                try Self.synchronizeDirectory(root.path)
            } else if errno != EEXIST {
                throw StorageError("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
            if access(destination, F_OK) == 0 {
                blob.discard()
            } else {
                try blob.move(to: destination)
                // A 201 means durable: the new name too, not only the bytes.
                try Self.synchronizeDirectory(directory)
            }
        }
        return sha512
    }

    private static func synchronizeDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// A previous run that died mid-upload leaves staged files behind; none of them is a blob.
    private func removeLeftoverStagedFiles() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
            try? FileManager.default.removeItem(at: staging.appendingPathComponent(name))
        }
    }
}
