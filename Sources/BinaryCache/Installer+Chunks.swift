import Foundation
import NetcacheClient
import NetcacheProtocol

extension Installer {
    /// The node's seeds: the chunk cache when configured, then the installed releases
    /// (none when `root`, software_root's descriptor, is not open). A chunk cache that
    /// cannot be used is left out, and said: it only saves transfers.
    func chunkSeeds(root: Int32) -> (seeds: [any ChunkSeed], cache: ChunkCache?, warning: String?) {
        var cache: ChunkCache?
        var warning: String?
        if let path = settings.chunkCache {
            do {
                cache = try ChunkCache(path: path, limit: settings.chunkCacheSize)
            } catch {
                warning = "\(error); installing without it"
            }
        }
        return ((cache.map { [$0] } ?? []) + (root >= 0 ? [InstalledTrees(root: root)] : []), cache, warning)
    }

    /// The index an entry signs: its blob fetched no further than its signed size,
    /// checked, then read.
    static func chunkIndex(of entry: BinaryEntry, from shacache: ShacacheClient) throws -> (index: ChunkIndex, blob: [UInt8]) {
        guard let size = entry.size else { throw ChunkIndexError("the entry signs no size for its index") }
        // Held in memory whole: a signed size must not make a hostile cache's stream memory.
        guard size <= ChunkIndex.blobSizeLimit else {
            throw ChunkIndexError("an index of \(size) bytes, more than the \(ChunkIndex.blobSizeLimit) a node reads")
        }
        let blob = try ShacacheConnection(shacache).download(entry.sha512, size: size)
        let index = try ChunkIndex(decoding: blob)
        // Exactly the root the entry signs, spelt the same: its length decides how many
        // bytes each placeholder stands for.
        guard let built = try entry.builtUnder(), index.from == built else {
            throw ChunkIndexError("built under \(index.from), where its entry says \((try? entry.builtUnder()) ?? "nothing")")
        }
        return (index, blob)
    }

    /// Expands a chunked entry: the index first, then the chunks from the node's seeds or
    /// shacache, assembled into the tar stream that the same safe extractor writes into
    /// staging, with this node's root written back in place of each placeholder.
    func expandChunks(_ entry: BinaryEntry, from shacache: ShacacheClient, top: String, root: SoftwareRoot, target: String) throws -> String? {
        let (index, blob) = try Self.chunkIndex(of: entry, from: shacache)
        let replacement = try RelocationPlan.make(for: entry, to: settings.softwareRoot)?.rewrite.replacement ?? Array((index.from + "/").utf8)
        let budget = ExtractionBudget(
            entries: entry.fileCount, bytes: entry.unpackedSize,
            freeSpaceFloor: entry.unpackedSize == nil ? settings.minimumFreeSpace : 0, root: root.path)
        let owner = try ownerWhenRoot(of: root)
        let (seeds, cache, cacheWarning) = chunkSeeds(root: root.descriptor)
        let supply = try ChunkSupply(chunks: index.chunks, seeds: seeds, cache: cache, shacache: shacache, connections: settings.chunkConnections)
        defer { supply.cancel() }
        try Interruption.stoppable(stop: { supply.cancel() }) {
            let source = try ChunkedTarSource(index: index, top: top, replacement: replacement, supply: supply)
            let staging = try root.makeStagingDirectory()
            defer { staging.remove() }
            var extractor = SafeExtractor(staging: staging, top: top, owner: owner, budget: budget, durability: settings.durability)
            extractor.onEntry = onExtracted
            let tree: TreeWriter
            do {
                tree = try extractor.extract(from: source.next)
            } catch {
                try Interruption.check()
                throw error
            }
            do {
                try Interruption.check()
                try tree.finish()
            } catch {
                tree.cancel()
                throw error
            }
            try moveIntoPlace(staging, top: top, target: target)
        }
        let tally = supply.tally
        for (name, counted) in tally.seeded.sorted(by: { $0.key < $1.key }) {
            explain("\(counted.chunks) chunk\(counted.chunks == 1 ? "" : "s") (\(counted.bytes) bytes) from \(name)")
        }
        explain("\(tally.fetched.chunks) of \(index.chunks.count) chunks fetched (\(tally.fetched.bytes) bytes, with the \(blob.count)-byte index)")
        var warnings = cacheWarning.map { [$0] } ?? []
        if let failure = InstalledTrees.keep(blob, md5: top, root: root.descriptor) {
            warnings.append("installed, but its chunk index was not kept to seed later installs: \(failure)")
        }
        cache?.trim()
        if let warning = flushed(root) { warnings.append(warning) }
        return warnings.isEmpty ? nil : warnings.joined(separator: "; ")
    }
}
