import Foundation
import NIOCore

/// Where shadir keeps its entries: SQLite in the data directory (`SQLiteEntryDirectory`,
/// the default) or PostgreSQL (`PostgresEntryDirectory`). Every implementation keeps each
/// entry as its exact PUT body, lists a key's entries in insertion order, and stores a
/// byte-identical body once, even when several servers file it at the same moment.
///
/// It also keeps the use marks of blobs (`SweepEpoch`) that let `netcache admin sweep` run
/// beside live servers without removing a blob an entry names.
public protocol EntryDirectory: Sendable {
    /// Stores a validated body under `key`; whether it was new. Marks the blobs it names, in
    /// the same transaction.
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

    /// Marks blobs as used now: before an upload of them is kept (`storing`, which also
    /// forgets that a sweep removed them) or a HEAD looks them up. Waits while a sweep is
    /// deciding on one of them.
    func markUse(of blobs: [String], storing: Bool) async throws

    /// Begins a sweep, once the filings under way are done: every entry filed before it is
    /// seen by what the sweep reads next, every one filed later marks its blobs after it.
    func beginSweep() async throws -> SweepEpoch

    /// Decides on one unreferenced blob of the sweep begun at `epoch`, excluding marks of it
    /// meanwhile: unless it was marked during the sweep or since `cutoff`, runs `remove`
    /// (none: a dry run) and remembers that the sweep removed it. Whether it did.
    func sweep(_ sha512: String, in epoch: SweepEpoch, unusedSince cutoff: Date, remove: (() async throws -> Void)?) async throws -> Bool

    /// Ends a sweep: forgets the blobs it removed.
    func endSweep(_ epoch: SweepEpoch) async throws

    /// Of these blobs, those a sweep under way removed and nobody stored again since: an
    /// entry naming one, filed while the sweep removed it, must not stay.
    func sweptBlobs(among blobs: [String]) async throws -> [String]
}

extension EntryDirectory {
    public func listing(for key: String) async throws -> ByteBuffer? {
        StoredListing(bodies: try await bodies(for: key)).rendered
    }
}
