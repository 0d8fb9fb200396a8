import NetcacheClient

/// libcurl's low-speed limit for transfers that are not libcurl's: a transfer that brings
/// fewer than `lowSpeedLimit` bytes a second over `lowSpeedTime` seconds is given up, so
/// that a trickling upstream does not hold a blob's clients for hours. (Silence is the
/// HTTP client's read timeout.)
struct LowSpeedCheck {
    private let limit: Int
    private let window: Duration
    private var start = ContinuousClock.now
    private var bytes = 0

    init(_ timeouts: TransferTimeouts) {
        limit = timeouts.lowSpeedLimit
        window = .seconds(timeouts.lowSpeedTime)
    }

    /// Counts `count` more bytes; throws once a whole window went by too slowly.
    mutating func received(_ count: Int) throws {
        bytes += count
        let elapsed = ContinuousClock.now - start
        guard elapsed >= window else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if Double(bytes) < Double(limit) * seconds {
            throw StorageError("upstream sent \(bytes) bytes in \(Int(seconds)) s, slower than \(limit) bytes a second")
        }
        start = .now
        bytes = 0
    }
}
