import Foundation
import NetcacheProtocol

/// Builds a release's chunk index while it is packed: records each entry, and feeds each
/// file's content, with its software_root occurrences replaced by the placeholder (and the
/// release's own directory name after one by the marker), to the chunker, whose chunks go
/// to the uploader.
///
/// The occurrences are those the relocation scan lists (it observes the file first), so
/// a placeholder stands exactly where relocation would rewrite: the same rules, and
/// nothing else in the file is touched. Each file is read a third time, from the page
/// cache.
final class ChunkIndexBuilder: PackObserver {
    private let relocation: RelocationScan
    private let from: String
    /// `<root>/`, what a placeholder replaces.
    private let occurrence: [UInt8]
    private let rewrite: RootRewrite?
    /// The release's directory name, which the marker replaces after a root.
    private let release: [UInt8]
    private let uploader: ChunkUploader
    private let chunker = ContentDefinedChunker()
    private var entries: [ChunkIndexEntry] = []
    private var pending: stat?
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    init(softwareRoot: String, release: String, relocation: RelocationScan, uploader: ChunkUploader) {
        self.release = Array(release.utf8)
        from = normalisedRoot(softwareRoot)
        occurrence = Array((from + "/").utf8)
        rewrite = try? RootRewrite(from: from, to: from)
        self.relocation = relocation
        self.uploader = uploader
    }

    /// Bytes a file loses in the content stream per occurrence.
    private var shrink: Int { occurrence.count - ChunkIndex.placeholder.count }

    func willPack(_ relative: String, status: stat) throws {
        pending = status
        if status.st_mode & S_IFMT == S_IFDIR {
            entries.append(.directory(path: relative, mode: UInt32(status.st_mode & 0o7777), mtime: status.st_mtim.tv_sec))
        }
    }

    func packedFile(_ relative: String, descriptor: Int32) throws {
        guard let status = pending else { throw ArchiveError("\(relative): packed without its metadata") }
        let size = Int(status.st_size)
        let offsets = relocation.listed.flatMap { $0.path == relative ? $0.offsets : nil } ?? []
        var roots: [Int] = []
        var releases: [Int] = []
        var position = 0
        var removed = 0
        for (number, offset) in offsets.enumerated() {
            try feed(descriptor, position..<offset, path: relative)
            try ChunkIndex.placeholder.withUnsafeBytes { try append($0) }
            roots.append(offset - removed)
            removed += shrink
            position = offset + occurrence.count
            let next = number + 1 < offsets.count ? offsets[number + 1] : size
            if position + release.count <= next, try read(descriptor, position..<(position + release.count), path: relative) == release {
                try ChunkIndex.releaseMarker.withUnsafeBytes { try append($0) }
                releases.append(roots[roots.count - 1])
                position += release.count
            }
        }
        try feed(descriptor, position..<size, path: relative)
        entries.append(.file(
            path: relative, mode: UInt32(status.st_mode & 0o7777), mtime: status.st_mtim.tv_sec, size: size,
            length: size - offsets.count * shrink, roots: roots, releases: releases))
    }

    func packedSymlink(_ relative: String, target: String) throws {
        var bytes = Array(target.utf8)
        var roots: [Int] = []
        var releases: [Int] = []
        if let rewrite, relocation.listed?.path == relative {
            let offsets = rewrite.occurrences(inTarget: bytes)
            for (index, offset) in offsets.enumerated().reversed() {
                let after = offset + occurrence.count
                let next = index + 1 < offsets.count ? offsets[index + 1] : bytes.count
                let named = after + release.count <= next && bytes[after..<(after + release.count)].elementsEqual(release)
                if named { bytes.replaceSubrange(after..<(after + release.count), with: ChunkIndex.releaseMarker) }
                bytes.replaceSubrange(offset..<after, with: ChunkIndex.placeholder)
                roots.insert(offset - index * shrink, at: 0)
                if named { releases.insert(offset - index * shrink, at: 0) }
            }
        }
        entries.append(.symlink(
            path: relative, mtime: pending?.st_mtim.tv_sec ?? 0, target: String(decoding: bytes, as: UTF8.self), roots: roots, releases: releases))
    }

    func packedHardLink(_ relative: String, to first: String) {
        entries.append(.hardLink(path: relative, to: first))
    }

    /// The index, once every chunk is stored.
    func finish() throws -> ChunkIndex {
        try chunker.finish { try uploader.store($0) }
        return ChunkIndex(from: from, chunks: try uploader.finish(), entries: entries)
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        try chunker.append(bytes) { try uploader.store($0) }
    }

    private func read(_ descriptor: Int32, _ range: Range<Int>, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        let count = bytes.withUnsafeMutableBytes { preadFully(descriptor, $0, at: range.lowerBound) }
        guard count == range.count else {
            throw ArchiveError(count < 0 ? "cannot read \(path): \(String(cString: strerror(errno)))" : "\(path) changed while being archived")
        }
        return bytes
    }

    private func feed(_ descriptor: Int32, _ range: Range<Int>, path: String) throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let wanted = min(buffer.count, range.upperBound - offset)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw ArchiveError(count == 0 ? "\(path) changed while being archived" : "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            try buffer.withUnsafeBytes { try append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += count
        }
    }
}
