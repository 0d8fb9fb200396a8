import CLinux
import NetcacheClient
import Foundation

/// Writes a release tree below a base directory through descriptors only: each entry is
/// created relative to its parent's descriptor, by a single name, never following a
/// symlink; every write, metadata change, flush and close is checked.
///
/// Directories are created private and get their mode, owner and times at the end,
/// deepest first, once nothing more is written into them (an archive may ask for
/// read-only directories). Files are fsynced as they are closed, on a `FileFlusher`, and
/// directories at the end, so that the whole tree is on disk when `finish` returns; or,
/// with `Durability.filesystem`, the file system is synced once at the end.
final class TreeWriter {
    /// A regular file being written.
    struct OpenFile {
        let descriptor: Int32
        let path: String
        var end = 0
    }

    private let base: Int32
    private let cursor: DirectoryCursor
    /// Hard-link targets are elsewhere in the tree: a cursor of their own keeps the main
    /// one where the archive is.
    private let linkCursor: DirectoryCursor
    /// `nil` when the whole file system is synced at the end instead.
    private let flusher: FileFlusher?
    private let owner: (uid: uid_t, gid: gid_t)?
    /// The process's umask: a file created with its final mode needs no `fchmod` unless
    /// the mask takes bits from it.
    private let mask: mode_t
    private var directories: [(path: [String], mode: mode_t, mtime: timespec)] = []

    /// `owner`: who gets every entry (root installing for software_root's owner); `nil`
    /// keeps the extracting user.
    init(base: Int32, owner: (uid: uid_t, gid: gid_t)?, durability: Durability) {
        self.base = base
        flusher = durability == .files ? FileFlusher() : nil
        // Entries created by the owner already belong to it.
        self.owner = owner.flatMap { $0.uid == geteuid() && $0.gid == getegid() ? nil : $0 }
        mask = umask(0)
        umask(mask)
        cursor = DirectoryCursor(base: base)
        linkCursor = DirectoryCursor(base: base)
    }

    func makeDirectory(_ path: [String], mode: mode_t, mtime: timespec) throws {
        let (parent, name) = try locate(path, through: cursor)
        try check(mkdirat(parent, name, 0o700), "cannot create directory", path)
        directories.append((path, mode, mtime))
    }

    func makeSymlink(_ path: [String], target: String, mtime: timespec) throws {
        let (parent, name) = try locate(path, through: cursor)
        try check(symlinkat(target, parent, name), "cannot create symlink", path)
        if let owner { try check(fchownat(parent, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW), "cannot change the owner of", path) }
        var times = [mtime, mtime]
        try check(utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW), "cannot set the times of", path)
    }

    func makeHardLink(_ path: [String], to target: [String]) throws {
        let (targetParent, targetName) = try locate(target, through: linkCursor)
        let (parent, name) = try locate(path, through: cursor)
        try check(linkat(targetParent, targetName, parent, name, 0), "cannot create hard link", path, to: target)
    }

    /// Creates the file with its final mode (the umask permitting): only the open
    /// descriptor writes to it.
    func createFile(_ path: [String], mode: mode_t) throws -> OpenFile {
        let (parent, name) = try locate(path, through: cursor)
        let descriptor = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        try check(descriptor, "cannot create", path)
        return OpenFile(descriptor: descriptor, path: path.joined(separator: "/"))
    }

    /// Writes `bytes` at `offset` (archives may leave holes in sparse files).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int, to file: inout OpenFile) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(file.descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("cannot write", file.path, errno: written == 0 ? ENOSPC : errno) }
            done += written
        }
        file.end = max(file.end, offset + bytes.count)
    }

    /// Gives the file its size, mode, owner and times, then hands it to the flusher, which
    /// closes it.
    func finishFile(_ file: OpenFile, size: Int, mode: mode_t, mtime: timespec) throws {
        do {
            if file.end < size { try check(ftruncate(file.descriptor, off_t(size)), "cannot write", file.path) }
            if let owner { try check(fchown(file.descriptor, owner.uid, owner.gid), "cannot change the owner of", file.path) }
            if mode & mask != 0 { try check(fchmod(file.descriptor, mode), "cannot change the mode of", file.path) }
            var times = [mtime, mtime]
            try check(futimens(file.descriptor, &times), "cannot set the times of", file.path)
        } catch {
            close(file.descriptor)
            throw error
        }
        if let flusher {
            try flusher.flush(file.descriptor, path: file.path)
        } else {
            try check(close(file.descriptor), "cannot write", file.path)
        }
    }

    /// Closes a file that will not be finished.
    func abandon(_ file: OpenFile) {
        close(file.descriptor)
    }

    /// Waits for every file to be on disk, then gives directories their metadata and
    /// flushes them, deepest first.
    func finish() throws {
        try flusher?.finish()
        for directory in directories.reversed() {
            let (parent, name) = try locate(directory.path, through: cursor)
            let descriptor = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            try check(descriptor, "cannot open", directory.path)
            defer { close(descriptor) }
            if let owner { try check(fchown(descriptor, owner.uid, owner.gid), "cannot change the owner of", directory.path) }
            try check(fchmod(descriptor, directory.mode), "cannot change the mode of", directory.path)
            var times = [directory.mtime, directory.mtime]
            try check(futimens(descriptor, &times), "cannot set the times of", directory.path)
            if flusher != nil { try check(fsync(descriptor), "cannot write", directory.path) }
        }
        try check(flusher != nil ? fsync(base) : netcache_syncfs(base), "cannot write", ["the staging directory"])
    }

    /// Stops the flusher's threads after a failure; what was written stays for the caller
    /// to remove.
    func cancel() {
        flusher?.cancel()
    }

    /// The open directory holding `path`, and its last name.
    private func locate(_ path: [String], through cursor: DirectoryCursor) throws -> (parent: Int32, name: String) {
        guard let name = path.last, isPlainComponent(name) else { throw ArchiveError("refusing the name \(path.joined(separator: "/").debugDescription) in archive") }
        return (try cursor.open(path.dropLast()), name)
    }

    private func check(_ result: Int32, _ what: String, _ path: [String], to target: [String]? = nil) throws {
        guard result < 0 else { return }
        let name = path.joined(separator: "/") + (target.map { " -> " + $0.joined(separator: "/") } ?? "")
        throw failure(what, name, errno: errno)
    }

    private func check(_ result: Int32, _ what: String, _ path: String) throws {
        guard result < 0 else { return }
        throw failure(what, path, errno: errno)
    }

    private func failure(_ what: String, _ path: String, errno code: Int32) -> ArchiveError {
        ArchiveError("\(what) \(path): \(String(cString: strerror(code)))")
    }
}
