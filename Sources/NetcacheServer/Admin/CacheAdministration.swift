import Foundation
import NetcacheProtocol

/// What `netcache admin` does on a cache's backends: list keys, remove an entry, remove a
/// blob nothing names any more, and report usage. Works on the storage directly, so a data
/// directory must not be in use by a server (its lock is held meanwhile).
public struct CacheAdministration {
    let backends: (blobs: any BlobStorage, entries: any EntryDirectory)

    init(backends: StorageBackends) {
        self.init(blobs: backends.blobs, entries: backends.entries)
    }

    init(blobs: any BlobStorage, entries: any EntryDirectory) {
        backends = (blobs, entries)
    }

    public struct KeySummary: Sendable {
        public let key: String
        public let entries: Int
        /// The bytes of the stored blobs its entries name (with their indexes' chunks), each
        /// counted once.
        public let bytes: Int
    }

    public struct Usage: Sendable {
        public var blobs = 0
        /// What the store holds: each blob once, however many entries share it.
        public var bytes = 0
        /// What the entries name, each key's blobs (a chunked release's chunks included)
        /// counted for that key: the store's size were nothing shared between keys.
        public var logicalBytes = 0
        /// Entries by the part of their key before `:` (`file-urlmd5`, `pypi`,
        /// `slapos-binary-cache`, ...); a key with none counts as `other` (SlapOS's legacy
        /// binary-cache keys, an md5 alone).
        public var entriesByKind: [(kind: String, entries: Int)] = []
        /// The binary-cache keys naming the most bytes, largest first.
        public var largestReleases: [KeySummary] = []
    }

    /// The keys starting with `prefix`, in the order of their first entry.
    public func keys(prefix: String = "") async throws -> [KeySummary] {
        var summaries: [KeySummary] = []
        let chunks = IndexedChunks(backends.blobs)
        for key in try await backends.entries.keys() where key.hasPrefix(prefix) {
            summaries.append(try await summary(of: key, chunks: chunks))
        }
        return summaries
    }

    /// Removes the entries of `key` that name the blob `sha512`; how many. The blob stays:
    /// other keys may name it. When none does any more, its last use becomes now, so that
    /// `sweepUnreferenced` counts from the moment nothing named it.
    public func removeEntries(key: String, naming sha512: String) async throws -> Int {
        let bodies = try await backends.entries.bodies(for: key).filter { NamedBlobs.of($0).first == sha512 }
        guard !bodies.isEmpty else { return 0 }
        let chunks = IndexedChunks(backends.blobs)
        var named = Set<String>()
        for body in bodies { named.formUnion(try await chunks.blobs(namedBy: body)) }
        let removed = try await backends.entries.remove(key: key, bodies: bodies)
        for blob in named where try await keysNaming(blob, chunks: chunks).isEmpty {
            try await backends.blobs.touch(blob)
        }
        return removed
    }

    private func keysNaming(_ sha512: String, chunks: IndexedChunks) async throws -> [String] {
        var naming: [String] = []
        for key in try await backends.entries.keys() {
            for body in try await backends.entries.bodies(for: key) where try await chunks.blobs(namedBy: body).contains(sha512) {
                naming.append(key)
                break
            }
        }
        return naming
    }

    /// Removes a stored blob that no entry names; refuses, naming the keys, while one does.
    public func removeBlob(_ sha512: String) async throws {
        guard try await backends.blobs.size(of: sha512) != nil else { throw AdministrationError("blob \(sha512) is not stored") }
        let naming = try await keysNaming(sha512, chunks: IndexedChunks(backends.blobs))
        guard naming.isEmpty else {
            throw AdministrationError("blob \(sha512.prefix(16))… is named by entries under \(naming.joined(separator: ", ")): remove those first (admin remove-entry)")
        }
        try await backends.blobs.remove(sha512)
    }

    /// A blob no entry names.
    public struct Unreferenced: Sendable {
        public let sha512: String
        public let size: Int
        public let lastUsed: Date
    }

    /// The blobs no entry names that were neither stored nor read since `cutoff`, removed
    /// unless `dryRun`; what they were.
    ///
    /// Safe beside live servers. The entries are read once, after `beginSweep` (every
    /// filing before it is then visible), and each blob is then decided on by the entry
    /// directory (`EntryDirectory.sweep`), which removes it only when nothing marked it
    /// during the sweep or since `cutoff`: an entry filed meanwhile marks the blobs it names
    /// in its own transaction, and an upload or a HEAD marks its blob before looking at the
    /// store (`SweepEpoch`).
    /// - Embedded (SQLite and files): the data directory's lock keeps servers away for the
    ///   whole sweep; marks are then only those of filings in this process.
    /// - PostgreSQL (with S3 or files): the decision and the removal hold the blob's mark
    ///   row, so a mark made meanwhile waits for the removal, then finds the blob gone (an
    ///   upload stores it again, a HEAD answers 404, a filing is refused). The epoch is taken
    ///   once the inserts under way are committed, with the sequence every mark numbers by:
    ///   no clock of any machine is compared.
    /// - S3 has no transactions, and needs none: the mark rows are the lock. A bucket shared
    ///   by servers whose entries are elsewhere than this sweep reads is not a cache this
    ///   sweep can look after.
    public func sweepUnreferenced(unusedSince cutoff: Date, dryRun: Bool) async throws -> [Unreferenced] {
        let epoch = try await backends.entries.beginSweep()
        var named = Set<String>()
        let chunks = IndexedChunks(backends.blobs)
        for key in try await backends.entries.keys() {
            for body in try await backends.entries.bodies(for: key) { named.formUnion(try await chunks.blobs(namedBy: body)) }
        }
        var addresses: [String] = []
        try await backends.blobs.forEachAddress { if !named.contains($0) { addresses.append($0) } }
        var swept: [Unreferenced] = []
        let blobs = backends.blobs
        for sha512 in addresses.sorted() {
            guard let lastUsed = try await blobs.lastUsed(sha512), lastUsed < cutoff, let size = try await blobs.size(of: sha512) else { continue }
            let remove: (() async throws -> Void)? = dryRun ? nil : { try await blobs.remove(sha512) }
            guard try await backends.entries.sweep(sha512, in: epoch, unusedSince: cutoff, remove: remove) else { continue }
            swept.append(Unreferenced(sha512: sha512, size: size, lastUsed: lastUsed))
        }
        if !dryRun { try await backends.entries.endSweep(epoch) }
        return swept
    }

    public func usage(largest: Int = 10) async throws -> Usage {
        var usage = Usage()
        (usage.blobs, usage.bytes) = try await backends.blobs.totals()
        var kinds: [String: Int] = [:]
        var order: [String] = []
        var releases: [KeySummary] = []
        let chunks = IndexedChunks(backends.blobs)
        for key in try await backends.entries.keys() {
            let kind = key.firstIndex(of: ":").map { String(key[..<$0]) } ?? "other"
            if kinds[kind] == nil { order.append(kind) }
            let summary = try await summary(of: key, chunks: chunks)
            kinds[kind, default: 0] += summary.entries
            usage.logicalBytes += summary.bytes
            if kind == "netcache" || (kind == "other" && key.count == 32) { releases.append(summary) }
        }
        usage.entriesByKind = order.map { ($0, kinds[$0]!) }
        usage.largestReleases = Array(releases.sorted { $0.bytes > $1.bytes }.prefix(largest))
        return usage
    }

    private func summary(of key: String, chunks: IndexedChunks) async throws -> KeySummary {
        let bodies = try await backends.entries.bodies(for: key)
        var named = Set<String>()
        for body in bodies { named.formUnion(try await chunks.blobs(namedBy: body)) }
        var bytes = 0
        for sha512 in named {
            bytes += try await backends.blobs.size(of: sha512) ?? 0
        }
        return KeySummary(key: key, entries: bodies.count, bytes: bytes)
    }
}
