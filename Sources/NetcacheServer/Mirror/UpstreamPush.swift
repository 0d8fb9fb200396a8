import Foundation
import GRDB
import Logging
import NIOPosix
import NetcacheClient
import NetcacheProtocol
import ServiceLifecycle

/// `--upstream-push`: what is uploaded to the mirror is forwarded upstream, with the
/// mirror's own credentials, in upload order.
///
/// Uploads are answered once stored here; forwarding waits in `<data>/push.sqlite` until
/// upstream takes it, so that neither an upstream outage nor a restart loses any.
final class UpstreamPush: Service, Sendable {
    let shacache: ShacacheClient
    let shadir: ShadirClient
    let store: any BlobStorage
    let retryDelay: Duration
    let logger: Logger
    private let database: DatabaseQueue
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    init(settings: UpstreamSettings, store: any BlobStorage, dataDirectory: URL, logger: Logger) throws {
        var shacache = ShacacheClient(downloadURL: settings.cacheURL, uploadURL: settings.cacheURL, tls: settings.tls)
        shacache.retry = UploadRetry(attempts: 1)
        self.shacache = shacache
        var shadir = ShadirClient(downloadURL: settings.directoryURL, uploadURL: settings.directoryURL, tls: settings.tls)
        shadir.retry = UploadRetry(attempts: 1)
        self.shadir = shadir
        self.store = store
        retryDelay = settings.backOff
        self.logger = logger
        database = try DatabaseQueue(path: dataDirectory.appendingPathComponent("push.sqlite").path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("pending") { db in
            try db.create(table: "pending") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("sha512", .text)
                table.column("key", .text)
                table.column("body", .text)
            }
        }
        try migrator.migrate(database)
        (wakeUps, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func blobStored(_ sha512: String) async throws {
        try await database.write { db in try db.execute(sql: "INSERT INTO pending (sha512) VALUES (?)", arguments: [sha512]) }
        wakeUp.yield()
    }

    func entryFiled(key: String, body: String) async throws {
        try await database.write { db in try db.execute(sql: "INSERT INTO pending (key, body) VALUES (?, ?)", arguments: [key, body]) }
        wakeUp.yield()
    }

    /// Forwards what is pending, oldest first; after a failure, waits and tries again.
    func run() async throws {
        wakeUp.yield()
        for await _ in wakeUps.cancelOnGracefulShutdown() {
            while let next = try await database.read({ db in try Row.fetchOne(db, sql: "SELECT id, sha512, key, body FROM pending ORDER BY id LIMIT 1") }) {
                let id: Int64 = next["id"]
                do {
                    try await forward(sha512: next["sha512"], key: next["key"], body: next["body"])
                    try await database.write { db in try db.execute(sql: "DELETE FROM pending WHERE id = ?", arguments: [id]) }
                } catch {
                    logger.warning("mirror: forwarding upstream failed, again in \(retryDelay): \(error)")
                    try? await Task.sleep(for: retryDelay)
                    if Task.isCancelled { return }
                }
            }
        }
    }

    private func forward(sha512: String?, key: String?, body: String?) async throws {
        let (shacache, shadir) = (self.shacache, self.shadir)
        if let sha512 {
            // Gone since (evicted, or removed by hand): nothing to forward.
            guard try await store.size(of: sha512) != nil else { return }
            try await store.withLocalFile(sha512) { path in
                try await Self.pool.runIfActive { try shacache.upload(file: path) }
            }
        } else if let key, let body {
            try await Self.pool.runIfActive { try shadir.put(try ShadirEntry(validatingBody: Array(body.utf8)), under: key) }
        }
    }
}
