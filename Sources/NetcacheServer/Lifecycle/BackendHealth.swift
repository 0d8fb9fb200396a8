import Synchronization

/// The backends' health, checked at most once per `lifetime` however often `/health` is
/// asked: it is open to all, and each check queries every backend. Callers that come while
/// a check runs share it, and a backend whose check hangs keeps that one (`HealthProbe`).
final class BackendHealth: Sendable {
    private let probes: [HealthProbe]
    private let metrics: ServerMetrics
    private let lifetime: Duration
    private let last = Mutex<(started: ContinuousClock.Instant, check: Task<[String], Never>)?>(nil)

    init(backends: StorageBackends, metrics: ServerMetrics, lifetime: Duration = .seconds(2)) {
        let (blobs, entries) = (backends.blobs, backends.entries)
        probes = [
            HealthProbe("blob store") { try await blobs.checkHealth() },
            HealthProbe("entry directory") { try await entries.checkHealth() },
        ]
        self.metrics = metrics
        self.lifetime = lifetime
    }

    /// One line per backend that did not answer; none when all did.
    func problems() async -> [String] {
        let check = last.withLock { last in
            if let last, ContinuousClock.now - last.started < lifetime { return last.check }
            let (probes, metrics) = (self.probes, self.metrics)
            let check = Task {
                metrics.healthChecks.increment()
                return await withTaskGroup(of: (Int, String?).self) { group in
                    for (index, probe) in probes.enumerated() { group.addTask { (index, await probe.problem(within: .seconds(5))) } }
                    var problems = [String?](repeating: nil, count: probes.count)
                    for await (index, problem) in group { problems[index] = problem }
                    return problems.compactMap { $0 }
                }
            }
            last = (ContinuousClock.now, check)
            return check
        }
        return await check.value
    }
}
