import Foundation
import GRDB

/// `<data>/push.sqlite`: the uploads waiting to be forwarded upstream, in upload order,
/// and those upstream refused for good, set aside with its answer.
final class PushQueue: Sendable {
    /// One upload to forward: a blob, or an entry filed under a key.
    struct Item: Sendable {
        let id: Int64
        let sha512: String?
        let key: String?
        let body: String?
    }

    private let database: DatabaseQueue

    init(dataDirectory: URL) throws {
        database = try DatabaseQueue(path: Self.path(in: dataDirectory), configuration: Self.sharedConfiguration(readOnly: false))
        var migrator = DatabaseMigrator()
        migrator.registerMigration("pending") { db in
            try db.create(table: "pending") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("sha512", .text)
                table.column("key", .text)
                table.column("body", .text)
            }
        }
        migrator.registerMigration("refused") { db in
            try db.create(table: "refused") { table in
                table.primaryKey("id", .integer)
                table.column("sha512", .text)
                table.column("key", .text)
                table.column("body", .text)
                table.column("status", .integer).notNull()
                table.column("reason", .text).notNull()
                table.column("refused_at", .double).notNull()
            }
        }
        try migrator.migrate(database)
    }

    static func path(in dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("push.sqlite").path
    }

    /// The server and `admin push-refused` open the file at once: each waits for the
    /// other's short transactions instead of failing.
    private static func sharedConfiguration(readOnly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        return configuration
    }

    func append(sha512: String) async throws {
        try await database.write { db in try db.execute(sql: "INSERT INTO pending (sha512) VALUES (?)", arguments: [sha512]) }
    }

    func append(key: String, body: String) async throws {
        try await database.write { db in try db.execute(sql: "INSERT INTO pending (key, body) VALUES (?, ?)", arguments: [key, body]) }
    }

    /// The oldest upload waiting.
    func next() async throws -> Item? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, sha512, key, body FROM pending ORDER BY id LIMIT 1").map {
                Item(id: $0["id"], sha512: $0["sha512"], key: $0["key"], body: $0["body"])
            }
        }
    }

    func remove(_ item: Item) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM pending WHERE id = ?", arguments: [item.id]) }
    }

    /// Moves `item` out of the queue into the refused ones, in one transaction.
    func setAside(_ item: Item, status: Int, reason: String) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO refused (id, sha512, key, body, status, reason, refused_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [item.id, item.sha512, item.key, item.body, status, reason, Date().timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM pending WHERE id = ?", arguments: [item.id])
        }
    }

    /// Puts uploads set aside back in the queue, in their place in upload order (all of
    /// them when `ids` is empty): once what upstream refused is fixed there (credentials,
    /// a size limit), they are forwarded. The server may be running; it takes them within
    /// its back-off period. Returns how many went back.
    static func requeue(in dataDirectory: URL, ids: [Int64]) throws -> Int {
        try existing(in: dataDirectory, readOnly: false).write { db in
            guard try db.tableExists("refused") else { return 0 }
            let chosen = ids.isEmpty ? "" : " WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))"
            let arguments = StatementArguments(ids)
            try db.execute(sql: "INSERT INTO pending (id, sha512, key, body) SELECT id, sha512, key, body FROM refused" + chosen, arguments: arguments)
            try db.execute(sql: "DELETE FROM refused" + chosen, arguments: arguments)
            return db.changesCount
        }
    }

    private static func existing(in dataDirectory: URL, readOnly: Bool) throws -> DatabaseQueue {
        let path = path(in: dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StorageError("no \(path): not the data directory of a mirror with --upstream-push")
        }
        return try DatabaseQueue(path: path, configuration: sharedConfiguration(readOnly: readOnly))
    }

    func refusedCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM refused") ?? 0 }
    }

    /// The uploads set aside in `dataDirectory`, oldest first, read without a lock: the
    /// server may be running. Empty when the queue never refused anything.
    static func refused(in dataDirectory: URL) throws -> [RefusedPush] {
        try existing(in: dataDirectory, readOnly: true).read { db in
            guard try db.tableExists("refused") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT id, sha512, key, body, status, reason, refused_at FROM refused ORDER BY id").map { row in
                RefusedPush(
                    id: row["id"], sha512: row["sha512"], key: row["key"], body: row["body"], status: row["status"], reason: row["reason"],
                    refusedAt: Date(timeIntervalSince1970: row["refused_at"]))
            }
        }
    }
}
