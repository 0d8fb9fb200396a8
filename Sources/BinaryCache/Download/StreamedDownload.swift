import Foundation
import NetcacheClient

/// A blob downloaded on its own thread into a bounded queue: the extractor pulls chunks
/// while the next ones arrive, and learns at the end whether the SHA-512 matched.
final class StreamedDownload: @unchecked Sendable {
    /// The blob grew past the size its signed entry gives: it is not the signed archive,
    /// and is cut off there rather than read to its end.
    struct SignedSizeExceeded: Error, CustomStringConvertible {
        let url: String
        let size: Int

        var description: String { "GET \(url): more than the \(size) bytes its entry signed (size)" }
    }

    private let queue = ByteQueue(capacity: 8)

    /// `size`: the signed size of the blob, when the entry gives one. A download that
    /// cannot get its thread has failed: the extractor's first `next` says why.
    init(shacache: ShacacheClient, sha512: String, size: Int?) {
        let queue = queue
        do {
            try DetachedThread.start { Self.run(shacache: shacache, sha512: sha512, size: size, into: queue) }
        } catch {
            queue.finish(error: error)
        }
    }

    private static func run(shacache: ShacacheClient, sha512: String, size: Int?, into queue: ByteQueue) {
        var batch: [UInt8] = []
        batch.reserveCapacity(1 << 20)
        var received = 0
        do {
            try shacache.download(sha512, stopped: { queue.isAbandoned }) { bytes in
                received += bytes.count
                if let size, received > size {
                    throw SignedSizeExceeded(url: redactedURL(shacache.blobURL(sha512)), size: size)
                }
                batch.append(contentsOf: bytes)
                if batch.count >= 1 << 20 {
                    guard queue.push(batch) else { throw ArchiveError("extraction stopped") }
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { queue.push(batch) }
            queue.finish()
        } catch {
            queue.finish(error: error)
        }
    }

    func next() throws -> [UInt8]? {
        try queue.pop()
    }

    /// Reads what the archive did not need (padding, trailers) to the end, where the
    /// download's checksum is known: only then does the extracted tree count. The end of
    /// the queue comes after the checksum was checked. Throws the download's own failure;
    /// returns `false`, and stops the download, when more than `limit` bytes remained.
    @discardableResult
    func finish(readingAtMost limit: Int = .max) throws -> Bool {
        var read = 0
        while let chunk = try queue.pop() {
            read += chunk.count
            if read > limit {
                cancel()
                return false
            }
        }
        return true
    }

    /// Wakes the extractor wherever it waits for bytes: it then stops.
    func interrupt() {
        queue.abandon(ArchiveError("interrupted"))
    }

    /// Stops the download without waiting for its thread, which ends within about a
    /// second: at its next bytes, or when libcurl next asks whether to go on, even while
    /// a stalled cache holds it.
    func cancel() {
        queue.abandon(ArchiveError("extraction stopped"))
    }
}
