import Foundation
import NIOCore

/// Where shacache keeps its blobs, addressed by SHA-512: the data directory
/// (`FileBlobStore`, the default) or an S3 bucket (`S3BlobStore`). Uploads go through
/// `staging` first, so a store only ever receives a verified, complete blob.
public protocol BlobStorage: Sendable {
    var staging: Staging { get }

    /// Makes a staged blob, verified to be `sha512`, visible under that address. A blob
    /// already stored is kept, the new copy dropped, and its last use renewed (`touch`): a
    /// client that uploads it again uses it.
    func keep(_ blob: StagedBlob, as sha512: String) async throws

    /// The size of a stored blob, or `nil` when it is not stored.
    func size(of sha512: String) async throws -> Int?

    /// Hands `range` of a stored blob to `consume`, a chunk at a time, the next one only
    /// once `consume` returned: a slow reader holds a chunk, not the blob.
    func read(_ sha512: String, range: Range<Int>, to consume: (ByteBuffer) async throws -> Void) async throws

    /// When a stored blob was last stored or read, as far as the store knows: a file's
    /// modification or access time, an object's last modification (S3 keeps no reads).
    func lastUsed(_ sha512: String) async throws -> Date?

    /// Makes a blob's last use now: when the last entry naming it goes, so that a retention
    /// counts from then.
    func touch(_ sha512: String) async throws

    /// Removes a blob; a blob already gone is no error.
    func remove(_ sha512: String) async throws

    /// Every stored address, in no particular order.
    func forEachAddress(_ body: (String) async throws -> Void) async throws

    /// How many blobs are stored, and their bytes.
    func totals() async throws -> (blobs: Int, bytes: Int)

    /// Throws when the store cannot take or serve blobs now, saying why (`GET /health`).
    func checkHealth() async throws

    /// Runs `body` with the path of a local file holding the blob, which may be the stored
    /// file itself: for what needs a file (forwarding upstream with libcurl, bundles).
    func withLocalFile<T>(_ sha512: String, _ body: (String) async throws -> T) async throws -> T
}

extension BlobStorage {
    public func totals() async throws -> (blobs: Int, bytes: Int) {
        var totals = (blobs: 0, bytes: 0)
        try await forEachAddress { sha512 in
            guard let size = try await size(of: sha512) else { return }
            totals.blobs += 1
            totals.bytes += size
        }
        return totals
    }

    /// Makes a finished upload visible under its SHA-512, which it returns. With
    /// `expected`, a blob that is not that one is dropped and `BlobMismatch` thrown.
    /// `beforeKeeping` runs once the address is known, before the store is looked at (an
    /// upload marks its blob there, `EntryDirectory.markUse`).
    public func commit(_ blob: StagedBlob, expected: String? = nil, beforeKeeping: ((String) async throws -> Void)? = nil) async throws -> String {
        let sha512 = try staging.seal(blob, expected: expected)
        try await beforeKeeping?(sha512)
        try await keep(blob, as: sha512)
        return sha512
    }

    public func beginUpload() throws -> StagedBlob {
        try staging.begin()
    }

    public func append(_ buffer: ByteBuffer, to blob: StagedBlob) async throws {
        try await staging.append(buffer, to: blob)
    }

    var freeSpace: FreeSpace { staging.freeSpace }
}
