/// Bounds a PostgreSQL call a request waits for, and stops waiting for it when it never ends.
///
/// PostgresNIO 1.33.2 can leave a query waiting forever: when writing to a pooled
/// connection fails (faults injected into the server's `write` calls showed it: the
/// transaction's `BEGIN`, advisory lock or `INSERT` never returned, while the database
/// showed every session idle), no answer and no error ever comes.
enum AbandonedQuery {
    /// Far above any query of a working database; a stuck one costs a request this long.
    static let limit: Duration = .seconds(10)

    static func run<T: Sendable>(_ what: String, within limit: Duration = limit, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await AbandonedCall.run(within: limit, failing: "PostgreSQL did not answer \(what) within \(limit.components.seconds) s", body)
    }
}
