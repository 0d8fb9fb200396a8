import NIOCore

/// Where shadir keeps its entries: SQLite in the data directory (`SQLiteEntryDirectory`,
/// the default) or PostgreSQL (`PostgresEntryDirectory`). Every implementation keeps each
/// entry as its exact PUT body, lists a key's entries in insertion order, and stores a
/// byte-identical body once, even when several servers file it at the same moment.
public protocol EntryDirectory: Sendable {
    /// Stores a validated body under `key`; whether it was new.
    @discardableResult
    func add(key: String, body: String) async throws -> Bool

    /// The exact bodies stored under `key`, in insertion order.
    func bodies(for key: String) async throws -> [String]

    /// The answer to a GET of `key`, as a shadir listing; `nil` when it has none.
    func listing(for key: String) async throws -> ByteBuffer?

    /// Every key, in the order of its first entry.
    func keys() async throws -> [String]

    /// Removes these exact bodies from `key` (`netcache admin`), the others keeping their
    /// order; how many were there.
    func remove(key: String, bodies: [String]) async throws -> Int

    /// How many entries there are, under every key.
    func count() async throws -> Int

    /// Throws when the directory cannot be read or written now, saying why (`GET /health`).
    func checkHealth() async throws
}

extension EntryDirectory {
    public func listing(for key: String) async throws -> ByteBuffer? {
        StoredListing(bodies: try await bodies(for: key)).rendered
    }
}
