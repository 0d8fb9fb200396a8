/// Runs `body`, and throws `StorageError(message)` instead when it takes longer than
/// `limit`: a backend that does not answer must not hold a start-up or a health check.
func withDeadline<T: Sendable>(_ limit: Duration, failing message: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw StorageError(message)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
