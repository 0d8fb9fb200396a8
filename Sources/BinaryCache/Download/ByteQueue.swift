import Foundation

/// A bounded queue of byte chunks between two threads: the producer blocks when it is full,
/// so memory stays at `capacity` chunks however large the stream.
final class ByteQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private var abandoned = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Blocks while the queue is full; returns `false` once the consumer has given up.
    @discardableResult
    func push(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && failure == nil { condition.wait() }
        guard failure == nil else { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    /// No more chunks will come; `error` tells the consumer why, if the stream broke.
    func finish(error: (any Error)? = nil) {
        condition.lock()
        finished = true
        if let error, failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer gives up: producers stop blocking and see `push` return `false`.
    func abandon(_ error: any Error) {
        condition.lock()
        abandoned = true
        if failure == nil { failure = error }
        chunks.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the consumer gave up: the producer may stop at once.
    var isAbandoned: Bool {
        condition.lock()
        defer { condition.unlock() }
        return abandoned
    }

    /// The next chunk, `nil` at the end; throws the producer's error.
    func pop() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished && failure == nil { condition.wait() }
        if let failure { throw failure }
        guard !chunks.isEmpty else { return nil }
        let chunk = chunks.removeFirst()
        condition.broadcast()
        return chunk
    }
}
