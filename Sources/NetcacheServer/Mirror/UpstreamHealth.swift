import Synchronization

/// Whether upstream is worth asking: after a transfer that could not reach it, it is left
/// alone for a back-off period, so that a dead upstream costs each request nothing rather
/// than a connect timeout.
final class UpstreamHealth: Sendable {
    private let downUntil = Mutex<ContinuousClock.Instant?>(nil)
    let backOff: Duration

    init(backOff: Duration) {
        self.backOff = backOff
    }

    var isDown: Bool {
        downUntil.withLock { until in
            guard let deadline = until else { return false }
            if ContinuousClock.now < deadline { return true }
            until = nil
            return false
        }
    }

    func markDown() {
        downUntil.withLock { $0 = ContinuousClock.now + backOff }
    }

    func markUp() {
        downUntil.withLock { $0 = nil }
    }
}
