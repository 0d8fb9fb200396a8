import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// shadir entries in PostgreSQL, shared by every server of a scaled-out cache, with the
/// embedded store's semantics: the exact PUT body is kept, a key's entries list in
/// insertion order, and a byte-identical body is stored once.
///
/// Uniqueness is the database's: a unique constraint on the key and the body's SHA-256
/// (bodies may be longer than an index entry), so that two servers filing one entry at the
/// same moment store it once. The digest is computed here, since PostgreSQL's own
/// `convert_to` is not immutable enough for a generated column. No listing cache: other
/// servers write too.
///
/// Use marks (`SweepEpoch`) are rows of `blob_use`, numbered by the sequence
/// `blob_use_sequence`; an `admin sweep` beside live servers decides on each blob holding
/// that blob's row, so that a mark of it waits for the decision.
public struct PostgresEntryDirectory: EntryDirectory {
    let client: PostgresClient
    let address: PostgresAddress
    private let logger: Logger

    public init(address: PostgresAddress, logger: Logger) {
        self.address = address
        self.logger = logger
        // Its warnings (a lease asked for before `run()` got going, which start-up does)
        // are noise; failures reach the queries, which say them.
        var background = logger
        background.logLevel = .error
        client = PostgresClient(configuration: address.configuration, backgroundLogger: background)
    }

    /// Checks the database and creates the table when missing; runs once `client` is running.
    /// The pool retries a database it cannot reach for a minute before it gives up: a
    /// start-up that cannot reach it says so sooner.
    func prepare(within limit: Duration = .seconds(15)) async throws {
        try await withDeadline(
            limit,
            failing: "cannot use PostgreSQL at \(address): no connection within \(limit.components.seconds) s (is it running there, and do the user and password match?)",
            createTable)
    }

    private func createTable() async throws {
        do {
            // Entries are UTF-8 text, kept byte for byte: another encoding would transcode them.
            for try await encoding in try await client.query("SHOW server_encoding", logger: logger).decode(String.self) where encoding != "UTF8" {
                throw ServerConfigurationError("\(address): the database's encoding is \(encoding); shadir entries need UTF8 (createdb -E UTF8)")
            }
            try await client.withTransaction(logger: logger) { connection in
                // Servers starting together would race to create the table.
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLock))", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS shadir_entry (
                        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        key text NOT NULL,
                        body text NOT NULL,
                        digest bytea NOT NULL,
                        UNIQUE (key, digest)
                    )
                    """, logger: logger)
                try await connection.query("CREATE SEQUENCE IF NOT EXISTS blob_use_sequence", logger: logger)
                // `used`: seconds since 1970 by the database's clock; `swept`: the epoch of the
                // sweep under way that removed the blob.
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS blob_use (
                        sha512 text PRIMARY KEY,
                        sequence bigint NOT NULL,
                        used double precision NOT NULL,
                        swept bigint
                    )
                    """, logger: logger)
            }
        } catch let error as ServerConfigurationError {
            throw error
        } catch {
            throw StorageError("cannot use PostgreSQL at \(address): \(String(reflecting: error))")
        }
    }

    private static let schemaLock: Int64 = 0x6e65_7463_6163_6865  // "netcache"

    @discardableResult
    public func add(key: String, body: String) async throws -> Bool {
        try await AbandonedQuery.run("a PUT of \(key)") { try await insert(key: key, body: body) }
    }

    private func insert(key: String, body: String) async throws -> Bool {
        let digest = ByteBuffer(bytes: SHA256.hash(data: Array(body.utf8)))
        return try await client.withTransaction(logger: logger) { connection in
            // Identities are handed out before commit: two PUTs to one key could commit in
            // the reverse order of their ids, and a reader see the later entry first, then the
            // earlier one appear before it. One writer per key at a time keeps id order the
            // order readers see.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger)
            let inserted = try await connection.query(
                "INSERT INTO shadir_entry (key, body, digest) VALUES (\(key), \(body), \(digest)) ON CONFLICT (key, digest) DO NOTHING RETURNING id", logger: logger)
            var added = false
            for try await _ in inserted { added = true }
            // After the insert: a sweep beginning now waits for this transaction (`beginSweep`).
            // In one order everywhere: two filings naming the same blobs never wait on each other.
            for sha512 in Set(NamedBlobs.of(body)).sorted() { try await Self.mark(sha512, storing: false, on: connection, logger: logger) }
            return added
        }
    }

    /// Renews a blob's mark; waits while a sweep holds its row.
    private static func mark(_ sha512: String, storing: Bool, on connection: PostgresConnection, logger: Logger) async throws {
        if storing {
            try await connection.query(
                """
                INSERT INTO blob_use (sha512, sequence, used) VALUES (\(sha512), nextval('blob_use_sequence'), extract(epoch FROM clock_timestamp()))
                ON CONFLICT (sha512) DO UPDATE SET sequence = EXCLUDED.sequence, used = EXCLUDED.used, swept = NULL
                """, logger: logger)
        } else {
            try await connection.query(
                """
                INSERT INTO blob_use (sha512, sequence, used) VALUES (\(sha512), nextval('blob_use_sequence'), extract(epoch FROM clock_timestamp()))
                ON CONFLICT (sha512) DO UPDATE SET sequence = EXCLUDED.sequence, used = EXCLUDED.used
                """, logger: logger)
        }
    }

    public func markUse(of blobs: [String], storing: Bool) async throws {
        let (client, logger) = (self.client, self.logger)
        try await AbandonedQuery.run("a mark of a blob's use") {
            try await client.withConnection { connection in
                for sha512 in Set(blobs).sorted() { try await Self.mark(sha512, storing: storing, on: connection, logger: logger) }
            }
        }
    }

    /// SHARE mode waits for the transactions that inserted entries and keeps new inserts
    /// out until the epoch is taken: those filed before are committed, and visible to the
    /// sweep's reading of the entries; those filed after mark their blobs with a larger
    /// number.
    public func beginSweep() async throws -> SweepEpoch {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("LOCK TABLE shadir_entry IN SHARE MODE", logger: logger)
            for try await sequence in try await connection.query("SELECT nextval('blob_use_sequence')", logger: logger).decode(Int64.self) {
                return SweepEpoch(sequence: sequence)
            }
            throw StorageError("PostgreSQL gave no value of blob_use_sequence")
        }
    }

    /// The blob's row is created when missing and locked for the decision and the removal:
    /// a mark of the blob (an upload, a HEAD, a filing naming it) waits until the removal is
    /// done and its `swept` recorded, so that the upload stores the blob again, the HEAD finds
    /// it absent, and the filing is refused (`sweptBlobs`).
    public func sweep(_ sha512: String, in epoch: SweepEpoch, unusedSince cutoff: Date, remove: (() async throws -> Void)?) async throws -> Bool {
        guard let remove else {
            for try await (sequence, used) in try await client.query("SELECT sequence, used FROM blob_use WHERE sha512 = \(sha512)", logger: logger).decode((Int64, Double).self) {
                return Self.unused(sequence: sequence, used: used, epoch: epoch, cutoff: cutoff)
            }
            return true
        }
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("INSERT INTO blob_use (sha512, sequence, used) VALUES (\(sha512), 0, 0) ON CONFLICT (sha512) DO NOTHING", logger: logger)
            var unused = false
            for try await (sequence, used) in try await connection.query("SELECT sequence, used FROM blob_use WHERE sha512 = \(sha512) FOR UPDATE", logger: logger).decode((Int64, Double).self) {
                unused = Self.unused(sequence: sequence, used: used, epoch: epoch, cutoff: cutoff)
            }
            guard unused else { return false }
            try await remove()
            try await connection.query("UPDATE blob_use SET swept = \(epoch.sequence) WHERE sha512 = \(sha512)", logger: logger)
            return true
        }
    }

    private static func unused(sequence: Int64, used: Double, epoch: SweepEpoch, cutoff: Date) -> Bool {
        sequence <= epoch.sequence && used < cutoff.timeIntervalSince1970
    }

    /// Also forgets what earlier sweeps that never ended removed: one sweep at a time is
    /// what refusing filings (`sweptBlobs`) protects.
    public func endSweep(_ epoch: SweepEpoch) async throws {
        try await client.query("DELETE FROM blob_use WHERE swept <= \(epoch.sequence)", logger: logger)
    }

    public func sweptBlobs(among blobs: [String]) async throws -> [String] {
        guard !blobs.isEmpty else { return [] }
        return try await AbandonedQuery.run("a check of swept blobs") { try await selectSwept(blobs) }
    }

    private func selectSwept(_ blobs: [String]) async throws -> [String] {
        var swept: [String] = []
        for try await sha512 in try await client.query("SELECT sha512 FROM blob_use WHERE sha512 = ANY(\(blobs)) AND swept IS NOT NULL", logger: logger).decode(String.self) {
            swept.append(sha512)
        }
        return swept
    }

    public func bodies(for key: String) async throws -> [String] {
        try await AbandonedQuery.run("a GET of \(key)") { try await select(key) }
    }

    private func select(_ key: String) async throws -> [String] {
        var bodies: [String] = []
        for try await body in try await client.query("SELECT body FROM shadir_entry WHERE key = \(key) ORDER BY id", logger: logger).decode(String.self) {
            bodies.append(body)
        }
        return bodies
    }

    public func remove(key: String, bodies: [String]) async throws -> Int {
        try await AbandonedQuery.run("a removal under \(key)") { try await delete(key: key, bodies: bodies) }
    }

    private func delete(key: String, bodies: [String]) async throws -> Int {
        var removed = 0
        for body in bodies {
            let digest = ByteBuffer(bytes: SHA256.hash(data: Array(body.utf8)))
            for try await _ in try await client.query("DELETE FROM shadir_entry WHERE key = \(key) AND digest = \(digest) RETURNING id", logger: logger) {
                removed += 1
            }
        }
        return removed
    }

    public func count() async throws -> Int {
        for try await count in try await client.query("SELECT count(*) FROM shadir_entry", logger: logger).decode(Int.self) { return count }
        return 0
    }

    public func checkHealth() async throws {
        try await AbandonedQuery.run("a health check") { try await selectOne() }
    }

    private func selectOne() async throws {
        for try await _ in try await client.query("SELECT 1 FROM shadir_entry LIMIT 1", logger: logger) {}
    }

    public func keys() async throws -> [String] {
        var keys: [String] = []
        for try await key in try await client.query("SELECT key FROM shadir_entry GROUP BY key ORDER BY MIN(id)", logger: logger).decode(String.self) {
            keys.append(key)
        }
        return keys
    }
}
