import Synchronization

/// The backends' health, checked at most once per `lifetime` however often `/health` is
/// asked: it is open to all, and each check queries every backend. Callers that come while
/// a check runs share it.
final class BackendHealth: Sendable {
    private let backends: StorageBackends
    private let metrics: ServerMetrics
    private let lifetime: Duration
    private let last = Mutex<(started: ContinuousClock.Instant, check: Task<[String], Never>)?>(nil)

    init(backends: StorageBackends, metrics: ServerMetrics, lifetime: Duration = .seconds(2)) {
        self.backends = backends
        self.metrics = metrics
        self.lifetime = lifetime
    }

    /// One line per backend that did not answer; none when all did.
    func problems() async -> [String] {
        let check = last.withLock { last in
            if let last, ContinuousClock.now - last.started < lifetime { return last.check }
            let (backends, metrics) = (self.backends, self.metrics)
            let check = Task {
                metrics.healthChecks.increment()
                return await backends.problems()
            }
            last = (ContinuousClock.now, check)
            return check
        }
        return await check.value
    }
}
