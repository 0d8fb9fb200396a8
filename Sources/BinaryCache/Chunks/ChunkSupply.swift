import Foundation
import NetcacheClient
import NetcacheProtocol

/// Gives an install the chunks of an index in order, each checked against its SHA-512:
/// from the node's seeds when one holds it, else from shacache, fetched by a few threads
/// with one kept-alive connection each, at most `window` chunks ahead of the one the
/// install writes. Memory is the window, whatever the release's size.
///
/// The first failure (a chunk missing from shacache, one that is not what its index
/// signed, an outage) stops every thread and is thrown to the install.
final class ChunkSupply: @unchecked Sendable {
    /// What the install sees if it asks for a chunk after cancelling.
    struct Cancelled: Error, CustomStringConvertible {
        var description: String { "chunk transfers cancelled" }
    }

    struct Tally: Sendable {
        var seeded: [String: (chunks: Int, bytes: Int)] = [:]
        var fetched = (chunks: 0, bytes: 0)
    }

    private let chunks: [ChunkReference]
    private let seeds: [any ChunkSeed]
    private let cache: ChunkCache?
    private let window: Int
    private let condition = NSCondition()
    private var ready: [Int: [UInt8]] = [:]
    private var nextToTake = 0
    private var consumed = 0
    private var running = 0
    private var failure: (any Error)?
    private var cancelled = false
    private(set) var tally = Tally()

    init(chunks: [ChunkReference], seeds: [any ChunkSeed], cache: ChunkCache?, shacache: ShacacheClient, connections: Int, window: Int = 64) throws {
        self.chunks = chunks
        self.seeds = seeds
        self.cache = cache
        self.window = max(window, connections)
        for _ in 0..<max(1, min(connections, chunks.count)) {
            condition.withLock { running += 1 }
            do {
                try DetachedThread.start { [self] in work(ShacacheConnection(shacache)) }
            } catch {
                condition.withLock { running -= 1 }
                cancel()
                throw error
            }
        }
    }

    /// The chunk at `position`, asked for in order; waits until it is there.
    func chunk(_ position: Int) throws -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while ready[position] == nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        consumed = position + 1
        condition.broadcast()
        return ready.removeValue(forKey: position) ?? []
    }

    /// Stops the threads; waits for them to end.
    func cancel() {
        condition.lock()
        cancelled = true
        if failure == nil { failure = Cancelled() }
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Whether the threads were told to stop: their transfers end within a second.
    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled || failure != nil
    }

    private func work(_ connection: ShacacheConnection) {
        while let position = take() {
            do {
                let bytes = try produce(chunks[position], connection: connection)
                condition.lock()
                ready[position] = bytes
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                if failure == nil { failure = error }
                condition.broadcast()
                condition.unlock()
            }
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while nextToTake < chunks.count && nextToTake >= consumed + window && failure == nil { condition.wait() }
        guard failure == nil, nextToTake < chunks.count else { return nil }
        nextToTake += 1
        return nextToTake - 1
    }

    private func produce(_ chunk: ChunkReference, connection: ShacacheConnection) throws -> [UInt8] {
        for seed in seeds {
            if let bytes = seed.bytes(of: chunk) {
                condition.lock()
                tally.seeded[seed.name, default: (0, 0)].chunks += 1
                tally.seeded[seed.name, default: (0, 0)].bytes += bytes.count
                condition.unlock()
                return bytes
            }
        }
        // The frame's SHA-512, which the index signs, is checked as it arrives: its bytes
        // are then the publisher's, and hashing them again once decompressed would only
        // cost time (a seed's bytes, which came from elsewhere, are hashed).
        let frame = try connection.download(chunk.blob, size: chunk.blobSize) { [weak self] in self?.isStopped ?? true }
        let url = connection.client.blobURL(chunk.blob)
        let bytes: [UInt8]
        do {
            bytes = try frame.withUnsafeBytes { try ZstdFrame.decompress($0, size: chunk.size, limit: ChunkIndex.chunkSizeLimit) }
        } catch {
            throw HTTPClientError(.invalidResponse, method: "GET", url: url, detail: "chunk \(chunk.sha512.prefix(12)): \(error)")
        }
        condition.lock()
        tally.fetched.chunks += 1
        tally.fetched.bytes += frame.count
        condition.unlock()
        cache?.keep(chunk, bytes: bytes)
        return bytes
    }
}
