import CLinux
import Foundation
import NetcacheClient
import NetcacheProtocol

/// The releases installed or published under software_root, as a seed: each install and
/// publish keeps its chunk index in `<software_root>/.netcache-indexes/<md5>`, which says
/// where in the tree each of its chunks lies. A chunk is read back from the tree's files,
/// with the node's root and the release's name replaced by the placeholder and the marker
/// again where the index lists them, and counts only when its SHA-512 matches (a file
/// changed since is as good as nothing).
///
/// Everything is opened relative to software_root's descriptor, component by component,
/// without following symlinks, as root must in a directory another user owns.
final class InstalledTrees: ChunkSeed, @unchecked Sendable {
    static let directory = ".netcache-indexes"

    private struct Tree {
        let md5: String
        /// Each file's path, first byte in the content stream, length and roots.
        let files: [(path: TreePath, start: Int, length: Int, substitutions: [ChunkSubstitution])]
        let rootLength: Int
    }

    private let root: Int32
    private var trees: [Tree] = []
    /// Where each chunk lies: the tree and its first byte in that tree's content stream.
    private var places: [String: (tree: Int, start: Int)] = [:]

    var name: String { "releases installed in software_root" }

    /// Reads the kept indexes of the releases present under `root` (a descriptor of
    /// software_root, which must stay open as long as this seed is used).
    init(root: Int32) {
        self.root = root
        let indexes = openat(root, Self.directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard indexes >= 0 else { return }
        defer { close(indexes) }
        guard Self.isOwn(indexes) else { return }
        for raw in (try? directoryEntries(of: indexes)) ?? [] {
            let md5 = String(decoding: raw.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard md5.utf8.count == 32, md5.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
                Self.isDirectory(md5, in: root),
                let blob = Self.read(md5, in: indexes, limit: ChunkIndex.sizeLimit),
                let index = try? ChunkIndex(decoding: blob)
            else { continue }
            add(index, md5: md5)
        }
    }

    private func add(_ index: ChunkIndex, md5: String) {
        var files: [(path: TreePath, start: Int, length: Int, substitutions: [ChunkSubstitution])] = []
        var position = 0
        for case .file(let path, _, _, _, let length, let roots, let releases) in index.entries {
            guard let treePath = try? TreePath(validating: path) else { return }
            files.append((treePath, position, length, ChunkSubstitution.of(roots: roots, releases: releases)))
            position += length
        }
        let tree = trees.count
        trees.append(Tree(md5: md5, files: files, rootLength: index.from.utf8.count + 1))
        var start = 0
        for chunk in index.chunks {
            if places[chunk.sha512] == nil { places[chunk.sha512] = (tree, start) }
            start += chunk.size
        }
    }

    func holds(_ chunk: ChunkReference) -> Bool {
        places[chunk.sha512] != nil
    }

    func bytes(of chunk: ChunkReference) -> [UInt8]? {
        guard let place = places[chunk.sha512] else { return nil }
        let tree = trees[place.tree]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunk.size)
        let end = place.start + chunk.size
        // The first file that ends after the chunk starts.
        var low = 0
        var high = tree.files.count
        while low < high {
            let middle = (low + high) / 2
            if tree.files[middle].start + tree.files[middle].length <= place.start { low = middle + 1 } else { high = middle }
        }
        let cursor = DirectoryCursor(base: root)
        for file in tree.files[low...] where file.start < end {
            let from = max(place.start, file.start) - file.start
            let to = min(end, file.start + file.length) - file.start
            guard to > from else { continue }
            guard read(file, normalised: from..<to, tree: tree, cursor: cursor, into: &bytes) else { return nil }
        }
        guard bytes.count == chunk.size, StreamingDigest.sha512Hex(of: bytes) == chunk.sha512 else { return nil }
        return bytes
    }

    /// Appends `range` of a file's normalised content: its bytes, with the placeholder and
    /// the release marker where the index lists them.
    private func read(
        _ file: (path: TreePath, start: Int, length: Int, substitutions: [ChunkSubstitution]), normalised range: Range<Int>, tree: Tree,
        cursor: DirectoryCursor, into bytes: inout [UInt8]
    ) -> Bool {
        guard let directory = try? cursor.open(([tree.md5] + file.path.components.dropLast())[...]) else { return false }
        let descriptor = openat(directory, file.path.components[file.path.components.count - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        // Plain stretches between substitutions, and the substitutions, in order; a root
        // takes more bytes in the file than its placeholder in the stream.
        let growth = tree.rootLength - ChunkIndex.placeholder.count
        var position = 0
        var shift = 0
        func plain(upTo end: Int) -> Bool {
            let stretch = max(position, range.lowerBound)..<min(end, range.upperBound)
            guard !stretch.isEmpty else { return true }
            let start = bytes.count
            bytes += [UInt8](repeating: 0, count: stretch.count)
            return bytes.withUnsafeMutableBytes { preadFully(descriptor, UnsafeMutableRawBufferPointer(rebasing: $0[start...]), at: stretch.lowerBound + shift) } == stretch.count
        }
        for substitution in file.substitutions {
            guard plain(upTo: substitution.offset) else { return false }
            let end = substitution.offset + substitution.normalised.count
            let marked = max(substitution.offset, range.lowerBound)..<min(end, range.upperBound)
            if !marked.isEmpty { bytes += substitution.normalised[(marked.lowerBound - substitution.offset)..<(marked.upperBound - substitution.offset)] }
            position = end
            if substitution.isRoot { shift += growth }
        }
        guard plain(upTo: file.length) else { return false }
        return true
    }

    /// Keeps the index of a release just installed; why not, when it could not.
    static func keep(_ blob: [UInt8], md5: String, root: Int32) -> String? {
        if mkdirat(root, directory, 0o755) != 0 && errno != EEXIST { return "cannot create \(directory): \(String(cString: strerror(errno)))" }
        let indexes = openat(root, directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard indexes >= 0 else { return "cannot open \(directory): \(String(cString: strerror(errno)))" }
        defer { close(indexes) }
        // Made 0o755 above (a umask only takes bits away); one that others may write was
        // not made here, and what it holds is not trusted.
        guard isOwn(indexes) else { return "\(directory) belongs to another user, or others may write in it" }
        let temporary = ".partial-\(getpid())-\(md5)"
        unlinkat(indexes, temporary, 0)
        let file = openat(indexes, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard file >= 0 else { return "cannot write in \(directory): \(String(cString: strerror(errno)))" }
        let failure = blob.withUnsafeBytes { writeFully(file, $0) }
        let closed = close(file) == 0
        guard failure == nil, closed, renameat(indexes, temporary, indexes, md5) == 0 else {
            unlinkat(indexes, temporary, 0)
            return "cannot write in \(directory): \(String(cString: strerror(failure ?? errno)))"
        }
        // The indexes of releases removed since (slapgrid removes a release's directory).
        for raw in (try? directoryEntries(of: indexes)) ?? [] {
            let name = String(decoding: raw.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if name.utf8.count == 32, !isDirectory(name, in: root) { unlinkat(indexes, name, 0) }
        }
        return nil
    }

    /// Kept indexes count only in a directory this user owns and nobody else may write:
    /// root must not decode, and hold, indexes that software_root's owner planted there.
    private static func isOwn(_ descriptor: Int32) -> Bool {
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_uid == geteuid() && status.st_mode & 0o022 == 0
    }

    private static func isDirectory(_ name: String, in root: Int32) -> Bool {
        var status = stat()
        return fstatat(root, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    private static func read(_ name: String, in directory: Int32, limit: Int) -> [UInt8]? {
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        guard bytes.withUnsafeMutableBytes({ preadFully(descriptor, $0, at: 0) }) == bytes.count else { return nil }
        return bytes
    }
}
