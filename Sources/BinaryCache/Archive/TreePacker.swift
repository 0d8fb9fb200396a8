import CArchive
import Foundation

/// What packing left out, and what it packed.
public struct PackReport: Sendable {
    /// Relative paths left out, each with the reason.
    public var excluded: [(path: String, reason: String)] = []
    /// Relative paths of files packed without their setuid or setgid bit.
    public var privilegeBitsDropped: [String] = []
    /// Entries written (directories, files, links).
    public var fileCount = 0
    /// Bytes of regular-file content.
    public var unpackedSize = 0
}

/// Packs a release tree as a pax tar whose single top entry is `<top>/`, deterministically:
/// entries sorted by name, modes and whole-second mtimes kept, owner and group recorded as
/// names only, no numeric ids, no atime/ctime, no xattrs.
///
/// Secrets and what cannot be archived are left out and reported: `.netrc` files at any
/// depth, sockets, FIFOs and devices, and anything matching an exclude pattern (fnmatch
/// against the path below the top directory, or against the file name).
///
/// Setuid and setgid bits are dropped, since installs refuse them: reported for files;
/// silently for directories, where setgid (every directory of a group-shared
/// software_root has it) only passes the directory's group on to new files.
struct TreePacker {
    let source: String
    let top: String
    let ownerName: String
    let groupName: String
    let excludePatterns: [String]
    var observers: [any PackObserver] = []

    /// Streams the tar to `sink` in the order libarchive produces it.
    func pack(into sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> PackReport {
        let writer = try TarStreamWriter(sink: sink)
        var walk = Walk()
        try visit(relative: "", in: AT_FDCWD, named: Array(source.utf8CString), writer: writer, walk: &walk)
        try writer.close()
        return walk.report
    }

    /// What a walk through the tree carries along.
    private struct Walk {
        var report = PackReport()
        var hardLinks: [HardLinkKey: String] = [:]
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    private struct HardLinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// Packs the entry `named` in the open directory `parent`. Everything is opened
    /// relative to its parent's descriptor and without following symlinks, and checked to
    /// be what was examined: the tree's owner may be changing it while root publishes, and
    /// must not get a symlink to a root-only file followed into a published archive.
    private func visit(relative: String, in parent: Int32, named entryName: [CChar], writer: TarStreamWriter, walk: inout Walk) throws {
        let path = relative.isEmpty ? source : source + "/" + relative
        var status = stat()
        guard fstatat(parent, entryName, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw ArchiveError("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        let name = relative.isEmpty ? top : top + "/" + relative
        let kind = status.st_mode & S_IFMT

        if relative.isEmpty {
            guard kind == S_IFDIR else { throw ArchiveError("\(path) is not a directory (a symlink?): publish archives the release directory itself") }
        } else {
            let base = (relative as NSString).lastPathComponent
            if base == ".netrc" {
                walk.report.excluded.append((relative, "credentials (.netrc)"))
                return
            }
            if let pattern = excludePatterns.first(where: { fnmatch($0, relative, 0) == 0 || fnmatch($0, base, 0) == 0 }) {
                walk.report.excluded.append((relative, "matches \(pattern)"))
                return
            }
            if kind != S_IFREG && kind != S_IFDIR && kind != S_IFLNK {
                walk.report.excluded.append((relative, kind == S_IFSOCK ? "socket" : kind == S_IFIFO ? "FIFO" : "device file"))
                return
            }
        }

        if status.st_mode & (S_ISUID | S_ISGID) != 0 {
            status.st_mode &= ~(S_ISUID | S_ISGID)
            if kind == S_IFREG { walk.report.privilegeBitsDropped.append(relative) }
        }
        for observer in observers { try observer.willPack(relative, status: status) }
        let entry = ArchiveEntry()
        entry.set(pathname: name, status: status, owner: ownerName, group: groupName)
        walk.report.fileCount += 1
        switch kind {
        case S_IFDIR:
            let directory = try open(entryName, in: parent, flags: O_DIRECTORY, as: status, path: path)
            defer { close(directory) }
            try writer.write(entry)
            let children = try directoryEntries(of: directory, path: path).map { raw in
                try raw.withUnsafeBufferPointer { pointer in
                    guard let child = String(validatingCString: pointer.baseAddress!) else {
                        throw ArchiveError("cannot archive \(path)/\(String(cString: pointer.baseAddress!)): the name is not UTF-8")
                    }
                    return (raw, child)
                }
            }
            for (raw, child) in children.sorted(by: { $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }) {
                try visit(relative: relative.isEmpty ? child : relative + "/" + child, in: directory, named: raw, writer: writer, walk: &walk)
            }
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(parent, entryName, &target, target.count - 1)
            guard length >= 0 else {
                throw ArchiveError(errno == EINVAL ? "\(path) changed while being archived" : "cannot read link \(path): \(String(cString: strerror(errno)))")
            }
            target[length] = 0
            guard let text = target.withUnsafeBufferPointer({ String(validatingCString: $0.baseAddress!) }) else {
                throw ArchiveError("cannot archive \(path): its link target is not UTF-8")
            }
            entry.setSymlink(text)
            try writer.write(entry)
            for observer in observers { try observer.packedSymlink(relative, target: text) }
        default:
            let key = HardLinkKey(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
            if status.st_nlink > 1, let first = walk.hardLinks[key] {
                entry.setHardlink(first)
                try writer.write(entry)
                let firstRelative = String(first.dropFirst(top.count + 1))
                for observer in observers { observer.packedHardLink(relative, to: firstRelative) }
                return
            }
            let file = try open(entryName, in: parent, flags: 0, as: status, path: path)
            defer { close(file) }
            if status.st_nlink > 1 { walk.hardLinks[key] = name }
            entry.setSize(Int(status.st_size))
            try writer.write(entry)
            walk.report.unpackedSize += try writer.writeContents(of: file, path: path, expectedSize: Int(status.st_size), buffer: &walk.buffer)
            for observer in observers { try observer.packedFile(relative, descriptor: file) }
        }
    }

    /// Opens an entry without following a symlink, and checks it is still the file that
    /// was examined.
    private func open(_ entryName: [CChar], in parent: Int32, flags: Int32, as examined: stat, path: String) throws -> Int32 {
        let descriptor = openat(parent, entryName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags)
        guard descriptor >= 0 else {
            // A symlink, or no longer a directory, where the examined entry was.
            let replaced = errno == ELOOP || errno == ENOTDIR
            throw ArchiveError(replaced ? "\(path) changed while being archived" : "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_dev == examined.st_dev, status.st_ino == examined.st_ino else {
            close(descriptor)
            throw ArchiveError("\(path) changed while being archived")
        }
        return descriptor
    }
}
