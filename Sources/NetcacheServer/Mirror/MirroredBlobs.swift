import Foundation
import GRDB
import Logging
import Synchronization

/// The blobs a mirror fetched from upstream, kept within `--cache-size` by evicting the
/// least recently used; blobs uploaded to the mirror itself are not among them and are
/// never evicted.
///
/// Membership lives in `<data>/mirror.sqlite`; the time of last use is kept in memory and
/// written back at most once a minute per blob, so that a GET costs no write.
///
/// Choosing a victim and deleting it are one step with respect to uploads: an upload of a
/// blob claims it (`claim`) before it is kept, and either comes before the choice, which
/// then passes the blob by, or waits until the victim's deletion is done and keeps its
/// own copy. Otherwise an upload finding the blob still there (and dropping its copy)
/// could be answered 201 for a blob deleted just after.
final class MirroredBlobs: Sendable {
    private struct Blob {
        var size: Int
        var lastUsed: Date
        var lastWritten: Date
    }

    private struct State {
        var blobs: [String: Blob] = [:]
        var total = 0
        /// Victims chosen and not deleted yet, with the uploads waiting for them.
        var evicting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    let limit: Int?
    private let store: any BlobStorage
    private let database: DatabaseQueue
    private let logger: Logger
    private let state = Mutex(State())
    private static let writeBackInterval: TimeInterval = 60

    init(dataDirectory: URL, store: any BlobStorage, limit: Int?, logger: Logger) throws {
        self.limit = limit
        self.store = store
        self.logger = logger
        database = try DatabaseQueue(path: dataDirectory.appendingPathComponent("mirror.sqlite").path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("mirrored") { db in
            try db.create(table: "mirrored") { table in
                table.primaryKey("sha512", .text)
                table.column("size", .integer).notNull()
                table.column("last_used", .double).notNull()
            }
        }
        try migrator.migrate(database)
        let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT sha512, size, last_used FROM mirrored") }
        var loaded = State()
        for row in rows {
            let sha512: String = row["sha512"]
            // A blob removed behind the server's back still counts until its turn to be
            // evicted comes, which then removes nothing: stores are not asked at start-up.
            let size: Int = row["size"]
            let lastUsed = Date(timeIntervalSince1970: row["last_used"])
            loaded.blobs[sha512] = Blob(size: size, lastUsed: lastUsed, lastWritten: lastUsed)
            loaded.total += size
        }
        state.withLock { $0 = loaded }
    }

    /// Records a blob just fetched and verified, then evicts down to the limit.
    func added(_ sha512: String, size: Int) async throws {
        let now = Date()
        try await database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mirrored (sha512, size, last_used) VALUES (?, ?, ?)", arguments: [sha512, size, now.timeIntervalSince1970])
        }
        state.withLock { state in
            if let old = state.blobs.updateValue(Blob(size: size, lastUsed: now, lastWritten: now), forKey: sha512) { state.total -= old.size }
            state.total += size
        }
        try await evict()
    }

    /// A blob about to be uploaded here becomes the mirror's own, never evicted: called
    /// before the upload is kept (`MirrorUploads`). While the blob is being evicted, waits
    /// until it is deleted, so that the upload then keeps its own copy.
    func claim(_ sha512: String) async throws {
        while true {
            let claimed: Bool? = state.withLock { state in
                if state.evicting[sha512] != nil { return nil }
                guard let blob = state.blobs.removeValue(forKey: sha512) else { return false }
                state.total -= blob.size
                return true
            }
            switch claimed {
            case nil:
                await evictionEnded(sha512)
            case true?:
                try await database.write { db in try db.execute(sql: "DELETE FROM mirrored WHERE sha512 = ?", arguments: [sha512]) }
                return
            case false?:
                return
            }
        }
    }

    /// The mirror's own since it was uploaded: never evicted. Already so when the upload
    /// went through `claim`.
    func uploaded(_ sha512: String) async throws {
        let wasMirrored = state.withLock { state in
            guard let blob = state.blobs.removeValue(forKey: sha512) else { return false }
            state.total -= blob.size
            return true
        }
        guard wasMirrored else { return }
        try await database.write { db in try db.execute(sql: "DELETE FROM mirrored WHERE sha512 = ?", arguments: [sha512]) }
    }

    private func evictionEnded(_ sha512: String) async {
        await withCheckedContinuation { continuation in
            let waiting = state.withLock { state in
                guard state.evicting[sha512] != nil else { return false }
                state.evicting[sha512]?.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    /// Marks a mirrored blob used now.
    func used(_ sha512: String) {
        let now = Date()
        let writeBack = state.withLock { state -> Bool in
            guard var blob = state.blobs[sha512] else { return false }
            blob.lastUsed = now
            let due = now.timeIntervalSince(blob.lastWritten) >= Self.writeBackInterval
            if due { blob.lastWritten = now }
            state.blobs[sha512] = blob
            return due
        }
        guard writeBack else { return }
        database.asyncWriteWithoutTransaction { db in
            try? db.execute(sql: "UPDATE mirrored SET last_used = ? WHERE sha512 = ?", arguments: [now.timeIntervalSince1970, sha512])
        }
    }

    var totalSize: Int { state.withLock { $0.total } }

    /// Removes least recently used blobs until the rest fits. The victims are marked as
    /// being evicted when chosen, under the same lock, and unmarked once deleted: an upload
    /// of one meanwhile waits (`claim`).
    private func evict() async throws {
        guard let limit else { return }
        let victims: [(String, Int)] = state.withLock { state in
            guard state.total > limit else { return [] }
            var chosen: [(String, Int)] = []
            for (sha512, blob) in state.blobs.sorted(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                guard state.total > limit else { break }
                state.blobs[sha512] = nil
                state.total -= blob.size
                state.evicting[sha512] = []
                chosen.append((sha512, blob.size))
            }
            return chosen
        }
        guard !victims.isEmpty else { return }
        for (sha512, _) in victims {
            do {
                try await store.remove(sha512)
            } catch {
                logger.error("mirror: cannot evict \(sha512.prefix(16))…: \(error)")
            }
            let waiting = state.withLock { $0.evicting.removeValue(forKey: sha512) ?? [] }
            for upload in waiting { upload.resume() }
        }
        try await database.write { db in
            for (sha512, _) in victims { try db.execute(sql: "DELETE FROM mirrored WHERE sha512 = ?", arguments: [sha512]) }
        }
        logger.info("mirror: evicted \(victims.count) blob(s), \(victims.reduce(0) { $0 + $1.1 }) bytes, to stay within --cache-size")
    }
}
