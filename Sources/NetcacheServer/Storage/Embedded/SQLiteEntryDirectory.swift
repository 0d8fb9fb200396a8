import Foundation
import GRDB
import NIOCore

/// The embedded default: entries in SQLite (`<data>/shadir.sqlite`, WAL mode). Its one
/// writer is the server holding the data directory's lock, which lets it cache listings.
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
        try migrator.migrate(database)
    }

    @discardableResult
    public func add(key: String, body: String) async throws -> Bool {
        let added = try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO entry (key, body) VALUES (?, ?)", arguments: [key, body])
            return db.changesCount > 0
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
