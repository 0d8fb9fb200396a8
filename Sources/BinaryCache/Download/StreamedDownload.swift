import Foundation
import NetcacheClient

/// A blob downloaded on its own thread into a bounded queue: the extractor pulls chunks
/// while the next ones arrive, and learns at the end whether the SHA-512 matched.
final class StreamedDownload: @unchecked Sendable {
    private let queue = ByteQueue(capacity: 8)
    private let done = DispatchSemaphore(value: 0)

    init(shacache: ShacacheClient, sha512: String) {
        let queue = queue
        let done = done
        Thread.detachNewThread {
            var batch: [UInt8] = []
            batch.reserveCapacity(1 << 20)
            do {
                try shacache.download(sha512) { bytes in
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
            done.signal()
        }
    }

    func next() throws -> [UInt8]? {
        try queue.pop()
    }

    /// Reads what the archive did not need (padding, trailers) to the end, where the
    /// download's checksum is known: only then does the extracted tree count.
    func finish() throws {
        while try queue.pop() != nil {}
        done.wait()
    }

    func cancel() {
        queue.abandon(ArchiveError("extraction stopped"))
        done.wait()
    }
}
