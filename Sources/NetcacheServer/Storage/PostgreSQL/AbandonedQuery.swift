import Synchronization

/// Bounds a PostgreSQL call a request waits for, and stops waiting for it when it never ends.
///
/// PostgresNIO 1.33.2 can leave a query waiting forever: when writing to a pooled
/// connection fails (faults injected into the server's `write` calls showed it: the
/// transaction's `BEGIN`, advisory lock or `INSERT` never returned, while the database
/// showed every session idle), no answer and no error ever comes. `withDeadline` would
/// wait for it all the same (a task group waits for its children), so the call runs in a
/// task of its own, cancelled and left behind at the deadline: the request gets its error,
/// and the server's shutdown does not wait for it.
enum AbandonedQuery {
    /// Far above any query of a working database; a stuck one costs a request this long.
    static let limit: Duration = .seconds(10)

    static func run<T: Sendable>(_ what: String, within limit: Duration = limit, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiter = Waiter<T>()
        return try await withCheckedThrowingContinuation { continuation in
            waiter.start(continuation)
            let work = Task {
                do {
                    waiter.finish(.success(try await body()))
                } catch {
                    waiter.finish(.failure(error))
                }
            }
            let timer = Task {
                try await Task.sleep(for: limit)
                waiter.finish(.failure(StorageError("PostgreSQL did not answer \(what) within \(limit.components.seconds) s")))
                work.cancel()
            }
            waiter.onFinish { timer.cancel() }
        }
    }

    /// The one continuation, resumed by whichever of the call and the deadline comes first.
    private final class Waiter<T: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, finished: Bool, onFinish: (@Sendable () -> Void)?)>((nil, false, nil))

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        func onFinish(_ action: @escaping @Sendable () -> Void) {
            let finished = state.withLock { state in
                if !state.finished { state.onFinish = action }
                return state.finished
            }
            if finished { action() }
        }

        func finish(_ result: Result<T, any Error>) {
            let (continuation, action) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
                guard !state.finished else { return (nil, nil) }
                state.finished = true
                defer { state.continuation = nil; state.onFinish = nil }
                return (state.continuation, state.onFinish)
            }
            continuation?.resume(with: result)
            action?()
        }
    }
}
