import Foundation
import NIOCore
import NIOPosix

/// Where uploads wait, whatever the blob store: `<data>/staging`, on this server's own disk.
/// A blob is hashed as it is written there and reaches its store only once complete and
/// verified, so no store ever holds a partial or corrupt blob under a blob's name.
public struct Staging: Sendable {
    public let directory: URL
    let freeSpace: FreeSpace

    /// Empties `directory`: call it only while holding the data directory's lock.
    init(dataDirectory: URL, minimumFreeSpace: Int?) throws {
        directory = dataDirectory.appendingPathComponent("staging", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        freeSpace = try FreeSpace(directory: directory.path, minimum: minimumFreeSpace)
        // A previous run that died mid-upload leaves staged files behind; none of them is a blob.
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Uploads' disk writes, hashing and fsyncs run on threads of their own, never on
    /// Swift's cooperative pool (one thread per core: two here), where two uploads onto a
    /// slow disk would stall every other request; nor on NIO's shared blocking pool.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public func begin() throws -> StagedBlob {
        try StagedBlob(directory: directory)
    }

    /// Writes and hashes the next part of an upload.
    public func append(_ buffer: ByteBuffer, to blob: StagedBlob) async throws {
        try await Self.pool.runIfActive {
            try buffer.withUnsafeReadableBytes { try blob.write($0) }
        }
    }

    /// The finished upload's SHA-512; with `expected`, a blob that is not that one is
    /// dropped and `BlobMismatch` thrown.
    func seal(_ blob: StagedBlob, expected: String?) throws -> String {
        let sha512 = blob.finish()
        if let expected, expected != sha512 {
            blob.discard()
            throw BlobMismatch(expected: expected, actual: sha512)
        }
        return sha512
    }
}
