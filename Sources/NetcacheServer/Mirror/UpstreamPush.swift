import Foundation
import Logging
import NIOPosix
import NetcacheClient
import NetcacheProtocol
import Prometheus
import ServiceLifecycle

/// `--upstream-push`: what is uploaded to the mirror is forwarded upstream, with the
/// mirror's own credentials, in upload order.
///
/// Uploads are answered once stored here; forwarding waits in `<data>/push.sqlite` until
/// upstream takes it, so that neither an upstream outage nor a restart loses any. What
/// upstream refuses for good (`permanentRefusals`) would block the queue forever: it is set
/// aside instead, logged, counted and listed by `netcache admin push-refused`, and the
/// queue goes on; the blob itself stays in the store, as every upload here does.
final class UpstreamPush: Service, Sendable {
    let shacache: ShacacheClient
    let shadir: ShadirClient
    let store: any BlobStorage
    let retryDelay: Duration
    let logger: Logger
    private let queue: PushQueue
    private let refused: Gauge
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    /// Answers that asking again will not change: a malformed upload (400), one upstream
    /// does not let the mirror make (403), one larger than upstream takes (413). Anything
    /// else (5xx, no connection, 401 until credentials are fixed) keeps its place.
    static let permanentRefusals: Set<Int> = [400, 403, 413]

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    init(settings: UpstreamSettings, store: any BlobStorage, dataDirectory: URL, metrics: ServerMetrics, logger: Logger) throws {
        var shacache = ShacacheClient(downloadURL: settings.cacheURL, uploadURL: settings.cacheURL, tls: settings.tls)
        shacache.retry = UploadRetry(attempts: 1)
        self.shacache = shacache
        var shadir = ShadirClient(downloadURL: settings.directoryURL, uploadURL: settings.directoryURL, tls: settings.tls)
        shadir.retry = UploadRetry(attempts: 1)
        self.shadir = shadir
        self.store = store
        retryDelay = settings.backOff
        self.logger = logger
        queue = try PushQueue(dataDirectory: dataDirectory)
        refused = metrics.registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "netcache", metricName: "upstream_push_refused", unitName: "",
                helpText: "Uploads upstream refused for good (400, 403, 413), set aside: netcache admin push-refused lists them."))
        (wakeUps, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func blobStored(_ sha512: String) async throws {
        try await queue.append(sha512: sha512)
        wakeUp.yield()
    }

    func entryFiled(key: String, body: String) async throws {
        try await queue.append(key: key, body: body)
        wakeUp.yield()
    }

    /// Forwards what is pending, oldest first; after a temporary failure, waits and tries
    /// the same upload again. Once the server stops, only a transfer in flight is waited
    /// for: the rest stays queued for the next start.
    func run() async throws {
        wakeUp.yield()
        // Uploads `admin push-refused --requeue` put back wait for no upload to wake the queue.
        let ticker = Task { [wakeUp, retryDelay] in
            while !Task.isCancelled {
                try await Task.sleep(for: max(retryDelay, .seconds(1)))
                wakeUp.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in wakeUps.cancelOnGracefulShutdown() {
            refused.set(Int64(try await queue.refusedCount()))
            while !Task.isShuttingDownGracefully, let next = try await queue.next() {
                do {
                    try await forward(next)
                    try await queue.remove(next)
                } catch let error as HTTPClientError where Self.permanentRefusals.contains(error.status ?? 0) {
                    try await setAside(next, status: error.status ?? 0, reason: "\(error)")
                } catch let error as ShadirEntryError {
                    try await setAside(next, status: 0, reason: "not an entry: \(error)")
                } catch {
                    logger.warning("mirror: forwarding upstream failed, again in \(retryDelay): \(error)")
                    // A pause, not a transfer: the server's stop ends it at once.
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.retryDelay) }
                    if Task.isCancelled { return }
                }
            }
        }
    }

    private func setAside(_ item: PushQueue.Item, status: Int, reason: String) async throws {
        try await queue.setAside(item, status: status, reason: reason)
        refused.increment()
        let what = item.sha512.map { "blob \($0)" } ?? "entry under \(item.key ?? "")"
        logger.error("mirror: upstream refused the \(what) for good; set aside (netcache admin push-refused lists it), the queue goes on: \(reason)")
    }

    private func forward(_ item: PushQueue.Item) async throws {
        let (shacache, shadir) = (self.shacache, self.shadir)
        if let sha512 = item.sha512 {
            // Gone since (evicted, or removed by hand): nothing to forward.
            guard try await store.size(of: sha512) != nil else { return }
            try await store.withLocalFile(sha512) { path in
                try await Self.pool.runIfActive { _ = try shacache.upload(file: path) }
            }
        } else if let key = item.key, let body = item.body {
            let entry = try ShadirEntry(validatingBody: Array(body.utf8))
            try await Self.pool.runIfActive { try shadir.put(entry, under: key) }
        }
    }
}
