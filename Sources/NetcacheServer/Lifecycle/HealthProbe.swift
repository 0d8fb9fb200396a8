import Synchronization

/// One backend's health check, kept while it runs however long it takes: a backend that
/// hangs (a file system that stops answering, a database that never replies) holds one
/// check, not one more thread each time `/health` is asked. Callers wait for it at most
/// `limit`, then count the backend as down.
final class HealthProbe: Sendable {
    private let name: String
    private let check: @Sendable () async throws -> Void
    private let running = Mutex<Task<String?, Never>?>(nil)

    init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }

    /// Why the backend cannot serve, or nil when it answered.
    func problem(within limit: Duration) async -> String? {
        let task = running.withLock { running in
            if let running { return running }
            let (name, check) = (self.name, self.check)
            let task = Task {
                // Runs once the lock is let go: the task that ends is the one kept.
                defer { self.running.withLock { $0 = nil } }
                do {
                    try await check()
                    return String?.none
                } catch {
                    return "\(name): \(error)"
                }
            }
            running = task
            return task
        }
        do {
            return try await AbandonedCall.run(within: limit, failing: "no answer within \(limit.components.seconds) s") { await task.value }
        } catch {
            return "\(name): \(error)"
        }
    }
}
