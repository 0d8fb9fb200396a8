import Foundation
import NIOCore
import NetcacheProtocol

/// The chunks a stored chunk index names, for what must keep, count or carry an entry's
/// blobs: the entry names its index only. Each index is read once per instance.
final class IndexedChunks {
    /// A stored blob's bytes, `nil` when it is not stored or larger than `ChunkIndex.blobSizeLimit`.
    private let read: (String) async throws -> [UInt8]?
    private var known: [String: [String]] = [:]

    init(_ blobs: any BlobStorage) {
        read = { sha512 in
            guard let size = try await blobs.size(of: sha512), size <= ChunkIndex.blobSizeLimit else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(size)
            try await blobs.read(sha512, range: 0..<size) { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
            return bytes
        }
    }

    /// Reads blobs as files of a data directory, without opening its store (which would
    /// empty the staging directory of the server that may be running on it).
    init(files dataDirectory: URL) {
        read = { sha512 in
            let path = FileBlobStore.path(for: sha512, inDataDirectory: dataDirectory)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let size = attributes[.size] as? Int, size <= ChunkIndex.blobSizeLimit
            else { return nil }
            return try? Array(Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    /// Every blob a stored entry body names: its own, its manifest, and its index's chunks
    /// when that index is stored.
    func blobs(namedBy body: String) async throws -> [String] {
        guard let entry = try? ShadirEntry(validatingBody: Array(body.utf8)) else { return [] }
        let named = entry.namedBlobs
        guard entry.namesChunkIndex, let index = named.first else { return named }
        return named + (try await chunks(of: index))
    }

    /// The chunk blobs of the index stored as `sha512`; none when it is not stored or not
    /// an index.
    func chunks(of sha512: String) async throws -> [String] {
        if let chunks = known[sha512] { return chunks }
        let chunks = try await read(sha512).map(ChunkIndex.blobs(namedByIndex:)) ?? []
        known[sha512] = chunks
        return chunks
    }
}
