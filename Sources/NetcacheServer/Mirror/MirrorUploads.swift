import Foundation
import NIOCore

/// The store as a mirror's uploads see it: keeping an upload first claims the blob from
/// eviction (`MirroredBlobs.claim`), so that a blob being evicted is deleted before the
/// upload is kept, never after; everything else is the store's.
struct MirrorUploads: BlobStorage {
    let base: any BlobStorage
    let mirrored: MirroredBlobs

    var staging: Staging { base.staging }

    func keep(_ blob: StagedBlob, as sha512: String) async throws {
        try await mirrored.claim(sha512)
        try await base.keep(blob, as: sha512)
    }

    func size(of sha512: String) async throws -> Int? {
        try await base.size(of: sha512)
    }

    func read(_ sha512: String, range: Range<Int>, to consume: (ByteBuffer) async throws -> Void) async throws {
        try await base.read(sha512, range: range, to: consume)
    }

    func lastUsed(_ sha512: String) async throws -> Date? {
        try await base.lastUsed(sha512)
    }

    func touch(_ sha512: String) async throws {
        try await base.touch(sha512)
    }

    func remove(_ sha512: String) async throws {
        try await base.remove(sha512)
    }

    func forEachAddress(_ body: (String) async throws -> Void) async throws {
        try await base.forEachAddress(body)
    }

    func totals() async throws -> (blobs: Int, bytes: Int) {
        try await base.totals()
    }

    func checkHealth() async throws {
        try await base.checkHealth()
    }

    func withLocalFile<T>(_ sha512: String, _ body: (String) async throws -> T) async throws -> T {
        try await base.withLocalFile(sha512, body)
    }
}
