import Foundation
import NetcacheClient
import NetcacheProtocol

/// Stores the chunks of a release being published: each is hashed, compressed and
/// uploaded unless shacache already has it, by a few threads with one kept-alive
/// connection each, so that packing goes on meanwhile and both cores are busy.
///
/// At most `capacity` chunks wait in memory. `finish` returns the references in the order
/// the chunks were given, or the first error.
final class ChunkUploader: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [(sequence: Int, bytes: [UInt8])] = []
    private var references: [ChunkReference?] = []
    private var closed = false
    private var running = 0
    private var failure: (any Error)?
    private var known: [String: (blob: String, blobSize: Int)] = [:]
    private let capacity = 16
    /// Chunks shacache did not have, and their stored bytes.
    private(set) var sent = (chunks: 0, bytes: 0)

    init(shacache: ShacacheClient, workers: Int = 4) throws {
        for _ in 0..<workers {
            condition.withLock { running += 1 }
            do {
                try DetachedThread.start { [self] in work(ShacacheConnection(shacache)) }
            } catch {
                condition.withLock { running -= 1 }
                close(failing: error)
                throw error
            }
        }
    }

    /// Queues a chunk; throws when an upload failed already.
    func store(_ chunk: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        waiting.append((references.count, Array(chunk)))
        references.append(nil)
        condition.broadcast()
    }

    /// Waits for every upload; the references in order.
    func finish() throws -> [ChunkReference] {
        close(failing: nil)
        condition.lock()
        defer { condition.unlock() }
        while running > 0 { condition.wait() }
        if let failure { throw failure }
        return try references.map { reference in
            guard let reference else { throw ArchiveError("a chunk was not stored") }
            return reference
        }
    }

    /// Gives up: what is queued is not uploaded; waits for the workers to end.
    func cancel() {
        close(failing: Cancelled())
        condition.lock()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private struct Cancelled: Error, CustomStringConvertible {
        var description: String { "publish stopped" }
    }

    /// Stops the workers (after what is queued, unless `error` says to give up).
    private func close(failing error: (any Error)?) {
        condition.lock()
        closed = true
        if let error, failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    private func work(_ connection: ShacacheConnection) {
        while let (sequence, bytes) = next() {
            do {
                let sha512 = StreamingDigest.sha512Hex(of: bytes)
                let stored = try storedForm(of: bytes, sha512: sha512, connection: connection)
                condition.lock()
                references[sequence] = ChunkReference(sha512: sha512, size: bytes.count, blob: stored.blob, blobSize: stored.blobSize)
                condition.unlock()
            } catch {
                close(failing: error)
            }
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// A chunk seen before in this release is not compressed or uploaded again.
    private func storedForm(of bytes: [UInt8], sha512: String, connection: ShacacheConnection) throws -> (blob: String, blobSize: Int) {
        condition.lock()
        let seen = known[sha512]
        condition.unlock()
        if let seen { return seen }
        let frame = try bytes.withUnsafeBytes { try ZstdFrame.compress($0) }
        let blob = StreamingDigest.sha512Hex(of: frame)
        if try connection.upload(frame, sha512: blob) {
            condition.lock()
            sent.chunks += 1
            sent.bytes += frame.count
            condition.unlock()
        }
        condition.lock()
        known[sha512] = (blob, frame.count)
        condition.unlock()
        return (blob, frame.count)
    }

    private func next() -> (Int, [UInt8])? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty && !closed && failure == nil { condition.wait() }
        guard failure == nil, !waiting.isEmpty else { return nil }
        condition.broadcast()
        let item = waiting.removeFirst()
        return (item.sequence, item.bytes)
    }
}
