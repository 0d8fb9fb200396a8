import Foundation
import NetcacheClient

/// A lock file, flock'ed while held: one release's (two installs of it never write at
/// once, two publishes never both file an entry), or software_root's (no staging
/// directory is taken for a leftover while its process is still making it).
///
/// Root keeps its lock files in `/run/netcache`: a name in software_root, which its owner
/// controls, could be swapped for a symlink under root's feet, and a directory's own flock
/// can be held by anyone who can read it. Other users keep theirs in software_root, which
/// is their own. The file is opened without following a symlink or blocking on a FIFO,
/// and must be a regular file of ours with one link.
final class LockFile {
    static let rootDirectory = "/run/netcache"

    private let directory: Int32
    /// `nil`: the directory itself is the lock.
    private let name: String?
    private let descriptor: Int32
    private let removeWhenReleased: Bool

    /// Waits for the flock of an open directory (which it then owns): for users other than
    /// root, software_root's own, which leaves no file behind.
    init(directory: Int32, place: String, exclusive: Bool) throws {
        self.directory = directory
        name = nil
        descriptor = directory
        removeWhenReleased = false
        guard flock(directory, exclusive ? LOCK_EX : LOCK_SH) == 0 else {
            let error = errno
            close(directory)
            throw ConfigurationError("cannot lock \(place): \(String(cString: strerror(error)))")
        }
    }

    /// Waits for the lock `name` in the open `directory` (which it then owns). A lock
    /// removed when released is checked, once held, to still be the file by that name.
    init(_ name: String, in directory: Int32, place: String, exclusive: Bool, removeWhenReleased: Bool) throws {
        self.directory = directory
        self.name = name
        self.removeWhenReleased = removeWhenReleased
        do {
            descriptor = try Self.acquire(name, in: directory, place: place, exclusive: exclusive)
        } catch {
            close(directory)
            throw error
        }
    }

    deinit {
        if let name, removeWhenReleased { unlinkat(directory, name, 0) }
        Self.release(descriptor)
        if name != nil { close(directory) }
    }

    /// Unlocks, then closes: the lock must not depend on the close succeeding, or a
    /// descriptor that a failed close left open would hold it against this process's own
    /// next lock of the same file (a coordination lock is taken again to make staging).
    private static func release(_ descriptor: Int32) {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// `/run/netcache`, made private to root if it is not there yet.
    static func openRootDirectory() throws -> Int32 {
        if mkdir(rootDirectory, 0o700) != 0 && errno != EEXIST {
            throw ConfigurationError("cannot create \(rootDirectory): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(rootDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0 else {
            let error = errno
            if descriptor >= 0 { close(descriptor) }
            // A symlink in its place fails the open with ELOOP: that one is refused.
            guard error == ELOOP || error == ENOTDIR else {
                throw ConfigurationError("cannot open \(rootDirectory): \(String(cString: strerror(error)))")
            }
            throw ConfigurationError("refusing \(rootDirectory): it must be a directory only root can write to")
        }
        guard status.st_uid == 0, status.st_mode & 0o022 == 0 else {
            close(descriptor)
            throw ConfigurationError("refusing \(rootDirectory): it must be a directory only root can write to")
        }
        return descriptor
    }

    /// Removes the lock file `name` if no process holds it: a leftover of a killed one.
    static func removeIfStale(_ name: String, in directory: Int32) {
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { release(descriptor) }
        guard isOurs(descriptor), flock(descriptor, LOCK_EX | LOCK_NB) == 0, isStillNamed(name, descriptor, in: directory) else { return }
        unlinkat(directory, name, 0)
    }

    private static func acquire(_ name: String, in directory: Int32, place: String, exclusive: Bool) throws -> Int32 {
        while true {
            let descriptor = openat(directory, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw ConfigurationError("cannot open the lock \(place)/\(name): \(String(cString: strerror(errno)))")
            }
            guard isOurs(descriptor) else {
                close(descriptor)
                throw ConfigurationError("refusing the lock \(place)/\(name): it is not a file of netcache's")
            }
            guard flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) == 0 else {
                let error = errno
                close(descriptor)
                throw ConfigurationError("cannot lock \(place)/\(name): \(String(cString: strerror(error)))")
            }
            // Whoever held it before may have removed it meanwhile: then lock the new one.
            if isStillNamed(name, descriptor, in: directory) { return descriptor }
            release(descriptor)
        }
    }

    private static func isOurs(_ descriptor: Int32) -> Bool {
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFREG && status.st_uid == geteuid() && status.st_nlink == 1
    }

    private static func isStillNamed(_ name: String, _ descriptor: Int32, in directory: Int32) -> Bool {
        var held = stat()
        var named = stat()
        return fstat(descriptor, &held) == 0 && fstatat(directory, name, &named, AT_SYMLINK_NOFOLLOW) == 0
            && held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }
}
