import Foundation
import GRDB
import NetcacheProtocol

/// The last listing upstream gave for each key, kept in `<data>/mirror-listings.sqlite`
/// apart from the mirror's own shadir: it is served only while upstream cannot be reached
/// (also after a restart), and replaced by whatever upstream answers next, so that an entry
/// withdrawn upstream is withdrawn here too.
final class KeptListings: Sendable {
    private let database: DatabaseQueue

    init(dataDirectory: URL) throws {
        database = try DatabaseQueue(path: dataDirectory.appendingPathComponent("mirror-listings.sqlite").path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("listings") { db in
            try db.create(table: "listing") { table in
                table.primaryKey("key", .text)
                table.column("body", .text).notNull()
            }
        }
        try migrator.migrate(database)
    }

    /// Keeps `entries` as upstream's listing of `key`; none forgets the key.
    func keep(_ entries: [ShadirEntry], for key: String) async throws {
        try await database.write { db in
            if entries.isEmpty {
                try db.execute(sql: "DELETE FROM listing WHERE key = ?", arguments: [key])
            } else {
                let body = ShadirListing.render(bodies: entries.map(\.body))
                try db.execute(sql: "INSERT OR REPLACE INTO listing (key, body) VALUES (?, ?)", arguments: [key, body])
            }
        }
    }

    /// The listing last kept for `key`, or `nil` when none is.
    func entries(for key: String) async throws -> [ShadirEntry]? {
        let body = try await database.read { db in try String.fetchOne(db, sql: "SELECT body FROM listing WHERE key = ?", arguments: [key]) }
        guard let body else { return nil }
        return try ShadirListing.parse(Array(body.utf8))
    }
}
