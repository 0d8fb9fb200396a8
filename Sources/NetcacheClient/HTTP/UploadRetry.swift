import Foundation

/// How uploads retry: a few attempts with a doubling pause, on transport errors and 5xx
/// only (a 4xx will not change by asking again). slapgrid tries three times.
public struct UploadRetry: Sendable {
    public var attempts: Int
    public var firstDelay: Duration

    public init(attempts: Int = 3, firstDelay: Duration = .seconds(1)) {
        self.attempts = max(1, attempts)
        self.firstDelay = firstDelay
    }

    func run<T>(_ body: () throws(HTTPClientError) -> T) throws(HTTPClientError) -> T {
        var delay = firstDelay
        var attempt = 1
        while true {
            do {
                return try body()
            } catch {
                let retryable = error.kind == .transport || (error.status ?? 0) >= 500
                guard retryable, attempt < attempts else { throw error }
            }
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            delay *= 2
            attempt += 1
        }
    }
}
