import Synchronization

/// Waits for a call at most `limit`, then stops waiting and leaves it behind, cancelled.
///
/// `withDeadline` cannot do this for a call that ignores cancellation (a task group waits
/// for its children): a PostgreSQL query that never answers, a metadata call blocked in a
/// thread pool on a hung file system. Here the call runs in a task of its own, so that the
/// caller gets its error on time and the server's shutdown does not wait for it.
enum AbandonedCall {
    static func run<T: Sendable>(within limit: Duration, failing message: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
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
                waiter.finish(.failure(StorageError(message)))
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
