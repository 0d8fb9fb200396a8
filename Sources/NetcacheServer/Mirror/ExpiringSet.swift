import Synchronization

/// Names remembered for a while: the blobs and keys upstream said it does not have, so
/// that storms of existence checks do not reach it. Bounded: past `limit` names it starts
/// afresh.
final class ExpiringSet: Sendable {
    private let members = Mutex<[String: ContinuousClock.Instant]>([:])
    let lifetime: Duration
    let limit: Int

    init(lifetime: Duration, limit: Int = 100_000) {
        self.lifetime = lifetime
        self.limit = limit
    }

    func insert(_ name: String) {
        guard lifetime > .zero else { return }
        members.withLock { members in
            if members.count >= limit { members.removeAll() }
            members[name] = ContinuousClock.now + lifetime
        }
    }

    func contains(_ name: String) -> Bool {
        members.withLock { members in
            guard let expiry = members[name] else { return false }
            if ContinuousClock.now < expiry { return true }
            members[name] = nil
            return false
        }
    }

    func remove(_ name: String) {
        members.withLock { $0[name] = nil }
    }
}
