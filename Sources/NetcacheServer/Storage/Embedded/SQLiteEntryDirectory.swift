import Foundation
import GRDB
import NIOCore

/// The embedded default: entries in SQLite (`<data>/shadir.sqlite`, WAL mode). Its one
/// writer is the server holding the data directory's lock, which lets it cache listings.
///
/// The same lock keeps every server away while `admin sweep` runs on the data directory:
/// no upload, HEAD or filing can happen during a sweep, so uploads and HEADs need no mark
/// here (`markUse` does nothing, and spares every HEAD a write). Filings still mark the
/// blobs they name, in their own transaction, so that the sweep's per-blob decision holds
/// for anything in this process that files while it runs.
public struct SQLiteEntryDirectory: EntryDirectory {
    private let database: DatabasePool
    private let cache = ListingCache()

    public init(dataDirectory: URL) throws {
        var configuration = Configuration()
        // A 201 promises the entry is on disk. In WAL mode, synchronous = NORMAL syncs the log
        // only at checkpoints, so the last commits may vanish in a power cut; FULL syncs it
        // at every commit. Entries are small and PUTs rare beside GETs: FULL costs little.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // A DatabasePool always runs in WAL mode: readers never wait for the writer.
        database = try DatabasePool(path: dataDirectory.appendingPathComponent("shadir.sqlite").path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("entries") { db in
            try db.create(table: "entry") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key", .text).notNull()
                table.column("body", .text).notNull()
                table.uniqueKey(["key", "body"])
            }
        }
        migrator.registerMigration("blob use marks") { db in
            try db.create(table: "blob_use") { table in
                table.primaryKey("sha512", .text)
                table.column("sequence", .integer).notNull().indexed()
                table.column("used", .double).notNull()
            }
        }
        try migrator.migrate(database)
    }

    @discardableResult
    public func add(key: String, body: String) async throws -> Bool {
        let added = try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO entry (key, body) VALUES (?, ?)", arguments: [key, body])
            let added = db.changesCount > 0
            for sha512 in NamedBlobs.of(body) {
                try db.execute(
                    sql: """
                        INSERT INTO blob_use (sha512, sequence, used) VALUES (?, (SELECT coalesce(max(sequence), 0) + 1 FROM blob_use), ?)
                        ON CONFLICT (sha512) DO UPDATE SET sequence = excluded.sequence, used = excluded.used
                        """, arguments: [sha512, Date().timeIntervalSince1970])
            }
            return added
        }
        if added { cache.invalidate(key) }
        return added
    }

    public func listing(for key: String) async throws -> ByteBuffer? {
        try await stored(key).rendered
    }

    public func bodies(for key: String) async throws -> [String] {
        try await stored(key).bodies
    }

    public func keys() async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT key FROM entry GROUP BY key ORDER BY MIN(id)")
        }
    }

    public func remove(key: String, bodies: [String]) async throws -> Int {
        let removed = try await database.write { db in
            var removed = 0
            for body in bodies {
                try db.execute(sql: "DELETE FROM entry WHERE key = ? AND body = ?", arguments: [key, body])
                removed += db.changesCount
            }
            return removed
        }
        cache.invalidate(key)
        return removed
    }

    public func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM entry") ?? 0 }
    }

    public func checkHealth() async throws {
        _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func markUse(of blobs: [String], storing: Bool) async throws {}

    public func beginSweep() async throws -> SweepEpoch {
        try await database.write { db in
            SweepEpoch(sequence: try Int64.fetchOne(db, sql: "SELECT coalesce(max(sequence), 0) FROM blob_use") ?? 0)
        }
    }

    public func sweep(_ sha512: String, in epoch: SweepEpoch, unusedSince cutoff: Date, remove: (() async throws -> Void)?) async throws -> Bool {
        // Values, not the row (which is not Sendable): the read stays off the caller's thread.
        let mark = try await database.read { db -> (sequence: Int64, used: Double)? in
            try Row.fetchOne(db, sql: "SELECT sequence, used FROM blob_use WHERE sha512 = ?", arguments: [sha512]).map { ($0["sequence"], $0["used"]) }
        }
        if let mark {
            guard mark.sequence <= epoch.sequence, mark.used < cutoff.timeIntervalSince1970 else { return false }
        }
        try await remove?()
        return true
    }

    /// No server files while a sweep runs here: nothing to remember.
    public func endSweep(_ epoch: SweepEpoch) async throws {}

    public func sweptBlobs(among blobs: [String]) async throws -> [String] { [] }

    private func stored(_ key: String) async throws -> StoredListing {
        switch cache.lookup(key) {
        case .hit(let listing):
            return listing
        case .miss(let generation):
            let bodies = try await database.read { db in
                try String.fetchAll(db, sql: "SELECT body FROM entry WHERE key = ? ORDER BY id", arguments: [key])
            }
            let listing = StoredListing(bodies: bodies)
            cache.keep(listing, for: key, readAt: generation)
            return listing
        }
    }
}
