import Foundation
import NetcacheProtocol

/// Turns a chunk index and its chunks back into the tar stream of the release, a piece at
/// a time, for `SafeExtractor`: the tree then goes through the same checks and the same
/// writer as a whole archive (names, symlinks, hard links, modes, budget, durability).
///
/// Each placeholder is checked to be in the content where the index says, and the node's
/// root (`replacement`, padded to the length of the root the tree was built under) is
/// written in its place, and the release's name (`top`) in place of each release marker:
/// relocation happens while the stream is made. At most one chunk
/// and what libarchive buffers are in memory.
final class ChunkedTarSource {
    private let index: ChunkIndex
    private let top: String
    private let replacement: [UInt8]
    private let supply: ChunkSupply
    private var writer: TarStreamWriter?
    private let pending = Pending()
    private var nextEntry = 0
    private var file: (path: String, substitutions: [ChunkSubstitution], length: Int, position: Int, next: Int)?
    private var chunk: [UInt8] = []
    private var chunkOffset = 0
    private var nextChunk = 0
    private var done = false

    init(index: ChunkIndex, top: String, replacement: [UInt8], supply: ChunkSupply) throws {
        self.index = index
        self.top = top
        self.replacement = replacement
        self.supply = supply
        writer = try TarStreamWriter { [pending] bytes in pending.bytes.append(contentsOf: bytes) }
    }

    /// The next piece of the tar stream; `nil` at its end.
    func next() throws -> [UInt8]? {
        while pending.bytes.isEmpty && !done { try step() }
        guard !pending.bytes.isEmpty else { return nil }
        defer { pending.bytes = [] }
        return pending.bytes
    }

    /// What libarchive wrote since the last piece. Its own object: the writer, freed after
    /// this source, may still flush into it.
    private final class Pending {
        var bytes: [UInt8] = []
    }

    private func step() throws {
        guard let writer else { return }
        if var current = file {
            defer { file = current.position == current.length ? nil : current }
            if current.next < current.substitutions.count, current.position == current.substitutions[current.next].offset {
                let substitution = current.substitutions[current.next]
                let found = try take(substitution.normalised.count)
                guard found == substitution.normalised else {
                    throw ChunkIndexError("\(current.path) holds no \(substitution.isRoot ? "placeholder" : "release marker") at byte \(current.position) of its content")
                }
                try output(for: substitution).withUnsafeBytes { try writer.writeData($0, path: current.path) }
                current.position += found.count
                current.next += 1
                return
            }
            let end = current.next < current.substitutions.count ? current.substitutions[current.next].offset : current.length
            try loadChunkIfUsed()
            let count = min(end - current.position, chunk.count - chunkOffset)
            try chunk.withUnsafeBytes { try writer.writeData(UnsafeRawBufferPointer(rebasing: $0[chunkOffset..<(chunkOffset + count)]), path: current.path) }
            chunkOffset += count
            current.position += count
            return
        }
        guard nextEntry < index.entries.count else {
            guard chunkOffset == chunk.count, nextChunk == index.chunks.count else { throw ChunkIndexError("chunks hold more than the files") }
            try writer.close()
            self.writer = nil
            done = true
            return
        }
        let item = index.entries[nextEntry]
        nextEntry += 1
        let entry = ArchiveEntry()
        let name = item.path.isEmpty ? top : top + "/" + item.path
        switch item {
        case .directory(_, let mode, let mtime):
            entry.set(pathname: name, type: S_IFDIR, permissions: mode, mtime: mtime)
        case .file(let path, let mode, let mtime, let size, let length, let roots, let releases):
            entry.set(pathname: name, type: S_IFREG, permissions: mode, mtime: mtime)
            entry.setSize(size)
            if length > 0 { file = (path, ChunkSubstitution.of(roots: roots, releases: releases), length, 0, 0) }
        case .symlink(_, let mtime, let target, let roots, let releases):
            entry.set(pathname: name, type: S_IFLNK, permissions: 0o777, mtime: mtime)
            entry.setSymlink(try restored(target, substitutions: ChunkSubstitution.of(roots: roots, releases: releases), path: item.path))
        case .hardLink(_, let first):
            entry.set(pathname: name, type: S_IFREG, permissions: 0, mtime: 0)
            entry.setHardlink(top + "/" + first)
        }
        try writer.write(entry)
    }

    /// What this node writes for a substitution: its root, or the release's name.
    private func output(for substitution: ChunkSubstitution) -> [UInt8] {
        substitution.isRoot ? replacement : Array(top.utf8)
    }

    /// A symlink target with the node's root and the release's name written back.
    private func restored(_ target: String, substitutions: [ChunkSubstitution], path: String) throws -> String {
        var bytes = Array(target.utf8)
        for substitution in substitutions.reversed() {
            let range = substitution.offset..<(substitution.offset + substitution.normalised.count)
            guard bytes[range].elementsEqual(substitution.normalised) else {
                throw ChunkIndexError("symlink \(path) holds no \(substitution.isRoot ? "placeholder" : "release marker") at byte \(substitution.offset)")
            }
            bytes.replaceSubrange(range, with: output(for: substitution))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The next chunk once the current one is used up.
    private func loadChunkIfUsed() throws {
        guard chunkOffset == chunk.count else { return }
        guard nextChunk < index.chunks.count else { throw ChunkIndexError("files hold more than the chunks") }
        chunk = try supply.chunk(nextChunk)
        chunkOffset = 0
        nextChunk += 1
    }

    /// `count` bytes of the content stream, across chunks.
    private func take(_ count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            try loadChunkIfUsed()
            let piece = min(count - bytes.count, chunk.count - chunkOffset)
            bytes += chunk[chunkOffset..<(chunkOffset + piece)]
            chunkOffset += piece
        }
        return bytes
    }
}
