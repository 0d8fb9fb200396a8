import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NetcacheClient
import Synchronization

/// shacache's side of a mirror: a blob missing here is fetched from upstream once, however
/// many clients ask for it meanwhile, streamed to each of them and to staging as it comes,
/// and kept only once its SHA-512 matches.
final class BlobMirror: Sendable {
    let store: any BlobStorage
    /// Where blobs are asked for (`blobURL`); the transfers go through `connections`.
    let upstream: ShacacheClient
    let connections: UpstreamConnections
    let timeouts: TransferTimeouts
    let health: UpstreamHealth
    /// Blobs upstream answered 404 for, lately.
    let missing: ExpiringSet
    let maxSize: Int
    /// What was fetched, for `--cache-size`.
    let mirrored: MirroredBlobs
    /// The store for uploads to the mirror: they claim their blob from eviction first.
    var uploads: any BlobStorage { MirrorUploads(base: store, mirrored: mirrored) }
    let metrics: ServerMetrics
    let logger: Logger
    private let inFlight = Mutex<[String: UpstreamBlobFetch]>([:])

    /// Clients' reads of blobs still arriving: short `pread`s of staging files, off the
    /// cooperative pool.
    private static let reads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    init(store: any BlobStorage, settings: UpstreamSettings, mirrored: MirroredBlobs, maxSize: Int, metrics: ServerMetrics, logger: Logger) throws {
        self.store = store
        connections = try UpstreamConnections(settings: settings, logger: logger)
        timeouts = settings.timeouts
        self.mirrored = mirrored
        self.metrics = metrics
        upstream = ShacacheClient(downloadURL: settings.cacheURL, uploadURL: nil, tls: settings.tls)
        health = UpstreamHealth(backOff: settings.backOff)
        missing = ExpiringSet(lifetime: settings.negativeTTL)
        self.maxSize = maxSize
        self.logger = logger
    }

    /// The answer for a blob this server does not have; `nil` once the blob is stored (a
    /// byte range of a blob still arriving waits for it), for the caller to serve.
    func answer(_ sha512: String, head: Bool, range: Bool, headers: HTTPFields, eventLoop: any EventLoop) async throws -> Response? {
        if missing.contains(sha512) { throw HTTPError(.notFound) }
        guard let fetch = try await fetch(sha512) else { return nil }
        switch await fetch.head() {
        case .missing:
            throw HTTPError(.notFound)
        case .failed(let reason):
            throw HTTPError(.badGateway, message: reason)
        case .found(let length):
            if range {
                guard await fetch.outcome() == .stored else { throw HTTPError(.badGateway, message: "upstream transfer failed") }
                return nil
            }
            var headers = headers
            if let length { headers[.contentLength] = String(length) }
            if head { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: Self.body(of: fetch, length: length, eventLoop: eventLoop))
        }
    }

    private enum Lookup {
        case running(UpstreamBlobFetch)
        case started(UpstreamBlobFetch, StagedBlob)
    }

    /// The transfer of `sha512` under way, or a new one; `nil` when the blob arrived since.
    private func fetch(_ sha512: String) async throws -> UpstreamBlobFetch? {
        if health.isDown { throw HTTPError(.badGateway, message: "upstream \(upstream.downloadURL ?? "") unreachable; not asked again yet") }
        // Looked up outside the lock, so a blob stored meanwhile is fetched twice at worst:
        // the second copy is dropped when kept.
        let stored = try await store.size(of: sha512) != nil
        if let running = inFlight.withLock({ $0[sha512] }) {
            metrics.sharedTransfers.increment()
            return running
        }
        if stored { return nil }
        // Made before the lock is taken, off Swift's cooperative pool: on a slow disk, files
        // being created must not hold every other miss.
        let store = self.store
        let (staged, reader) = try await MetadataCalls.run {
            let staged = try store.beginUpload()
            return (staged, try staged.openForReading())
        }
        let lookup: Lookup = inFlight.withLock { inFlight in
            if let running = inFlight[sha512] { return .running(running) }
            let fetch = UpstreamBlobFetch(reader: reader)
            inFlight[sha512] = fetch
            return .started(fetch, staged)
        }
        switch lookup {
        case .running(let fetch):
            // Another request started the same transfer meanwhile.
            metrics.sharedTransfers.increment()
            close(reader)
            try await MetadataCalls.run { staged.discard() }
            return fetch
        case .started(let fetch, let staged):
            Task { await transfer(sha512, into: staged, reporting: fetch) }
            return fetch
        }
    }

    private func transfer(_ sha512: String, into staged: StagedBlob, reporting fetch: UpstreamBlobFetch) async {
        let outcome: UpstreamBlobFetch.Outcome
        do {
            let status = try await receive(sha512, into: staged, reporting: fetch)
            health.markUp()
            if status == 404 { missing.insert(sha512) }
            if case .found = await fetch.head() {
                let size = staged.size
                _ = try await store.commit(staged, expected: sha512)
                try await mirrored.added(sha512, size: size)
                outcome = .stored
            } else {
                outcome = .failed("upstream answered HTTP \(status)")
            }
        } catch let error as UpstreamUnreachable {
            health.markDown()
            outcome = .failed(error.description)
        } catch {
            outcome = .failed("\(error)")
        }
        try? await MetadataCalls.run { staged.discard() }
        // Finished before it leaves the registry: a request in between finds the outcome.
        fetch.finish(outcome)
        // Only now is a head known for certain: a transfer that failed first has none.
        switch outcome {
        case .stored: metrics.upstream("blob", "hit")
        case .failed where await fetch.head() == .missing: metrics.upstream("blob", "miss")
        case .failed: metrics.upstream("blob", "error")
        }
        inFlight.withLock { $0[sha512] = nil }
        if case .failed(let reason) = outcome, await fetch.head() != .missing {
            logger.warning("mirror: \(sha512.prefix(16))… not kept: \(reason)")
        }
    }

    /// Asks upstream for the blob and writes a 200's body to staging as it comes, off the
    /// cooperative pool; returns upstream's status. What fails on upstream's side (no
    /// connection, a cut, silence, a trickle) throws `UpstreamUnreachable`.
    private func receive(_ sha512: String, into staged: StagedBlob, reporting fetch: UpstreamBlobFetch) async throws -> Int {
        let response: HTTPClientResponse
        do {
            response = try await connections.get(upstream.blobURL(sha512))
        } catch {
            throw UpstreamUnreachable(url: upstream.blobURL(sha512), error: error)
        }
        let status = Int(response.status.code)
        let length = response.headers.first(name: "content-length").flatMap { Int($0) }
        let fits = if let length, status == 200 { try await store.freeSpace.admitsWithoutBlocking(length) } else { true }
        let head = Self.head(status: status, length: length, maxSize: maxSize, fits: fits)
        fetch.report(head: head)
        guard head == .found(length: length) else {
            // A refusal's few bytes are read, so the connection serves again; more is cut.
            _ = try? await response.body.collect(upTo: 1 << 16)
            return status
        }
        var lowSpeed = LowSpeedCheck(timeouts)
        var chunks = response.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await chunks.next()
                try lowSpeed.received(chunk?.readableBytes ?? 0)
            } catch {
                throw UpstreamUnreachable(url: upstream.blobURL(sha512), error: error)
            }
            guard let chunk else { return status }
            guard staged.size + chunk.readableBytes <= maxSize else { throw StorageError("upstream's blob is larger than --max-upload-size") }
            try await store.append(chunk, to: staged)
            fetch.report(written: staged.size)
        }
    }

    /// `fits`: whether the length upstream announced leaves `--min-free-space` free.
    private static func head(status: Int, length: Int?, maxSize: Int, fits: Bool) -> UpstreamBlobFetch.Head {
        switch status {
        case 200:
            if let length, length > maxSize { return .failed("upstream's blob is larger than --max-upload-size") }
            if !fits { return .failed("not enough space here for upstream's blob") }
            return .found(length: length)
        case 404:
            return .missing
        default:
            return .failed("upstream answered HTTP \(status)")
        }
    }

    /// The blob as it arrives, read back from staging. Its last byte is held back until the
    /// blob is verified, and the connection cut when it fails: a client never takes a wrong
    /// or partial blob for a whole one.
    private static func body(of fetch: UpstreamBlobFetch, length: Int?, eventLoop: any EventLoop) -> ResponseBody {
        ResponseBody(contentLength: length) { writer in
            var position = 0
            while true {
                let (written, outcome) = await fetch.progress(beyond: position + 1)
                if case .failed(let reason)? = outcome { throw HTTPError(.badGateway, message: reason) }
                let end = outcome == .stored ? written : written - 1
                while position < end {
                    let (start, count) = (position, min(Int(FileBlobStore.chunkLength), end - position))
                    let chunk = try await reads.runIfActive { try Self.read(fetch.reader, at: start, count: count) }
                    position += chunk.readableBytes
                    try await writer.write(chunk)
                    try await eventLoop.submit {}.get()
                }
                if outcome == .stored { break }
            }
            try await writer.finish(nil)
        }
    }

    private static func read(_ descriptor: Int32, at offset: Int, count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
            let read = pread(descriptor, pointer.baseAddress, count, off_t(offset))
            guard read > 0 else { throw StorageError("cannot read a staging file: \(read < 0 ? String(cString: strerror(errno)) : "short")") }
            return read
        }
        return buffer
    }
}
