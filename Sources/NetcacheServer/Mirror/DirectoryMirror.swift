import Logging
import NIOPosix
import NetcacheClient
import NetcacheProtocol
import Synchronization

/// shadir's side of a mirror: upstream's entries of a key, asked for at most once per TTL,
/// and served stale while upstream is down (stale-if-error), so that a site cut off keeps
/// installing what it has seen.
final class DirectoryMirror: Sendable {
    /// What upstream can be said to hold for a key.
    enum Answer: Sendable, Equatable {
        case entries([ShadirEntry])
        /// Down, and never answered for this key.
        case unreachable(String)
    }

    private struct Remembered {
        let entries: [ShadirEntry]
        let asked: ContinuousClock.Instant
    }

    let upstream: ShadirClient
    let health: UpstreamHealth
    let ttl: Duration
    /// Keys upstream had no entry for, lately; an upload here shows at once regardless,
    /// since local entries are always read.
    let missing: ExpiringSet
    let metrics: ServerMetrics
    let logger: Logger
    private let answers = Mutex<[String: Remembered]>([:])
    /// Keys remembered at most; past it the memory starts afresh.
    private static let keyLimit = 100_000

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    init(settings: UpstreamSettings, metrics: ServerMetrics, logger: Logger) {
        self.metrics = metrics
        var upstream = ShadirClient(downloadURL: settings.directoryURL, uploadURL: nil, tls: settings.tls)
        upstream.timeouts = settings.timeouts
        self.upstream = upstream
        health = UpstreamHealth(backOff: settings.backOff)
        ttl = settings.directoryTTL
        missing = ExpiringSet(lifetime: settings.negativeTTL)
        self.logger = logger
    }

    func entries(for key: String) async -> Answer {
        let remembered = answers.withLock { $0[key] }
        if let remembered, ContinuousClock.now - remembered.asked < ttl { return .entries(remembered.entries) }
        if missing.contains(key) { return .entries([]) }
        if health.isDown { return remembered.map { .entries($0.entries) } ?? .unreachable("upstream shadir unreachable; not asked again yet") }
        let upstream = upstream
        do {
            let entries = try await Self.pool.runIfActive { try upstream.entries(for: key) }
            health.markUp()
            metrics.upstream("key", entries.isEmpty ? "miss" : "hit")
            if entries.isEmpty {
                missing.insert(key)
                answers.withLock { $0[key] = nil }
            } else {
                answers.withLock { answers in
                    if answers.count >= Self.keyLimit { answers.removeAll() }
                    answers[key] = Remembered(entries: entries, asked: .now)
                }
            }
            return .entries(entries)
        } catch {
            metrics.upstream("key", "error")
            if let error = error as? HTTPClientError, error.kind == .transport { health.markDown() }
            logger.warning("mirror: shadir \(key): \(error)\(remembered == nil ? "" : "; serving the last answer")")
            return remembered.map { .entries($0.entries) } ?? .unreachable("upstream shadir failed: \(error)")
        }
    }
}
