import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NetcacheClient
import NetcacheProtocol
import Synchronization

/// shadir's side of a mirror: upstream's entries of a key, asked for at most once per TTL.
/// While upstream answers, what it lists now is what the mirror lists (besides its own
/// uploads): an entry withdrawn upstream goes here too. Upstream's last listing is kept on
/// disk and served only while upstream is down (stale-if-error), so that a site cut off
/// keeps installing what it has seen. With `--trusted-certificates`, an upstream entry none
/// of them signed is neither listed nor kept, as an upload of it is refused.
final class DirectoryMirror: Sendable {
    /// What upstream can be said to hold for a key.
    enum Answer: Sendable, Equatable {
        case entries([ShadirEntry])
        /// Down, and nothing kept for this key.
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
    let kept: KeptListings
    let security: LiveSecuritySettings
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

    init(settings: UpstreamSettings, dataDirectory: URL, security: LiveSecuritySettings, metrics: ServerMetrics, logger: Logger) throws {
        self.metrics = metrics
        var upstream = ShadirClient(downloadURL: settings.directoryURL, uploadURL: nil, tls: settings.tls)
        upstream.timeouts = settings.timeouts
        self.upstream = upstream
        health = UpstreamHealth(backOff: settings.backOff)
        ttl = settings.directoryTTL
        missing = ExpiringSet(lifetime: settings.negativeTTL)
        kept = try KeptListings(dataDirectory: dataDirectory)
        self.security = security
        self.logger = logger
    }

    /// The listing of `key`: the mirror's own entries (`local`, PUT bodies), then
    /// upstream's, each identical entry once; `nil` when there is none. Upstream's entries
    /// are passed on as they are: clients check signatures themselves.
    func listing(for key: String, local: [String]) async throws -> ByteBuffer? {
        let upstream: [ShadirEntry]
        switch await entries(for: key) {
        case .entries(let entries):
            upstream = entries
        case .unreachable(let reason):
            guard !local.isEmpty else { throw HTTPError(.badGateway, message: reason) }
            upstream = []
        }
        var seen = Set(local.compactMap { try? ShadirEntry(validatingBody: Array($0.utf8)) })
        let bodies = local + upstream.filter { seen.insert($0).inserted }.map(\.body)
        return bodies.isEmpty ? nil : ByteBuffer(string: ShadirListing.render(bodies: bodies))
    }

    func entries(for key: String) async -> Answer {
        let remembered = answers.withLock { $0[key] }
        if let remembered, ContinuousClock.now - remembered.asked < ttl { return .entries(trusted(remembered.entries, key: key)) }
        if missing.contains(key) { return .entries([]) }
        if health.isDown { return await lastKnown(key, remembered: remembered, failure: "upstream shadir unreachable; not asked again yet") }
        let upstream = upstream
        do {
            let answered = try await Self.pool.runIfActive { try upstream.entries(for: key) }
            health.markUp()
            metrics.upstream("key", answered.isEmpty ? "miss" : "hit")
            let entries = trusted(answered, key: key)
            if entries.count < answered.count {
                logger.warning("mirror: shadir \(key): \(answered.count - entries.count) upstream entr\(answered.count - entries.count == 1 ? "y" : "ies") signed by none of --trusted-certificates, neither listed nor kept")
            }
            if entries.isEmpty { missing.insert(key) }
            let changed = answers.withLock { answers in
                if answers.count >= Self.keyLimit { answers.removeAll() }
                let changed = answers[key]?.entries != entries
                answers[key] = entries.isEmpty ? nil : Remembered(entries: entries, asked: .now)
                return changed
            }
            if changed || remembered == nil { await keep(entries, for: key) }
            return .entries(entries)
        } catch {
            metrics.upstream("key", "error")
            if let error = error as? HTTPClientError, error.kind == .transport { health.markDown() }
            logger.warning("mirror: shadir \(key): \(error)")
            return await lastKnown(key, remembered: remembered, failure: "upstream shadir failed: \(error)")
        }
    }

    /// What upstream listed last, while it cannot be asked: remembered, else kept on disk.
    private func lastKnown(_ key: String, remembered: Remembered?, failure: String) async -> Answer {
        if let remembered { return .entries(trusted(remembered.entries, key: key)) }
        do {
            if let entries = try await kept.entries(for: key) { return .entries(trusted(entries, key: key)) }
        } catch {
            logger.error("mirror: cannot read the kept listing of \(key): \(error)")
        }
        return .unreachable(failure)
    }

    private func keep(_ entries: [ShadirEntry], for key: String) async {
        do {
            try await kept.keep(entries, for: key)
        } catch {
            logger.error("mirror: cannot keep upstream's listing of \(key): \(error)")
        }
    }

    /// The entries one of `--trusted-certificates` signed; all of them without the option.
    /// Read at each use, so that a SIGHUP's new list applies to what is kept too. Trust
    /// documents pass unchanged: their roots sign them, and every node checks them itself.
    private func trusted(_ entries: [ShadirEntry], key: String) -> [ShadirEntry] {
        guard let trust = security.current.trust, !key.hasPrefix(TrustKeys.documentPrefix) else { return entries }
        return entries.filter { trust.verifies(info: $0.info, signature: $0.signature) }
    }
}
