import Foundation
import NetcacheClient
import NetcacheProtocol

/// One release's lock, held while it is installed or published: two installs of one
/// release never write at once, and two publishes never both file an entry. A lock file is
/// flock'ed, and removed when released.
///
/// Root keeps its lock files in `/run/netcache`: a name in software_root, which its owner
/// controls, could be swapped for a symlink under root's feet. Other users keep theirs in
/// software_root, which is their own (`.netcache-lock-<md5>`). Either way the file is
/// opened without following a symlink or blocking on a FIFO, and must be a regular file of
/// ours with one link.
final class ReleaseLock {
    static let prefix = ".netcache-lock-"
    static let rootDirectory = "/run/netcache"

    private let directory: Int32
    private let name: String
    private let descriptor: Int32

    /// Waits for the lock of release `md5` of the software_root `root`.
    init(root: SoftwareRoot, md5: String) throws {
        let place: String
        if geteuid() == 0 {
            directory = try Self.openRootDirectory()
            name = StreamingDigest.md5Hex(of: root.path) + "-" + md5
            place = Self.rootDirectory
        } else {
            directory = dup(root.descriptor)
            name = Self.prefix + md5
            place = root.path
        }
        guard directory >= 0 else { throw ConfigurationError("cannot lock in \(place): \(String(cString: strerror(errno)))") }
        do {
            descriptor = try Self.acquire(name, in: directory, place: place)
        } catch {
            close(directory)
            throw error
        }
    }

    private static func acquire(_ name: String, in directory: Int32, place: String) throws -> Int32 {
        while true {
            let descriptor = try open(name, in: directory, path: place)
            guard flock(descriptor, LOCK_EX) == 0 else {
                let error = errno
                close(descriptor)
                throw ConfigurationError("cannot lock \(place)/\(name): \(String(cString: strerror(error)))")
            }
            // Whoever held it before may have removed it meanwhile: then lock the new one.
            if isStillNamed(name, descriptor, in: directory) { return descriptor }
            close(descriptor)
        }
    }

    /// `/run/netcache`, made private to root if it is not there yet.
    private static func openRootDirectory() throws -> Int32 {
        if mkdir(rootDirectory, 0o700) != 0 && errno != EEXIST {
            throw ConfigurationError("cannot create \(rootDirectory): \(String(cString: strerror(errno)))")
        }
        let descriptor = Foundation.open(rootDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0, status.st_uid == 0, status.st_mode & 0o022 == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw ConfigurationError("refusing \(rootDirectory): it must be a directory only root can write to")
        }
        return descriptor
    }

    deinit {
        unlinkat(directory, name, 0)
        close(descriptor)
        close(directory)
    }

    /// Removes the lock file `name` if no process holds it: a leftover of a killed one.
    static func removeIfStale(_ name: String, in root: Int32) {
        let descriptor = openat(root, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        guard isOurs(descriptor), flock(descriptor, LOCK_EX | LOCK_NB) == 0, isStillNamed(name, descriptor, in: root) else { return }
        unlinkat(root, name, 0)
    }

    private static func open(_ name: String, in root: Int32, path: String) throws -> Int32 {
        let descriptor = openat(root, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError("cannot open the lock \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        guard isOurs(descriptor) else {
            close(descriptor)
            throw ConfigurationError("refusing the lock \(path)/\(name): it is not a file of netcache's")
        }
        return descriptor
    }

    private static func isOurs(_ descriptor: Int32) -> Bool {
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFREG && status.st_uid == geteuid() && status.st_nlink == 1
    }

    private static func isStillNamed(_ name: String, _ descriptor: Int32, in root: Int32) -> Bool {
        var held = stat()
        var named = stat()
        return fstat(descriptor, &held) == 0 && fstatat(root, name, &named, AT_SYMLINK_NOFOLLOW) == 0
            && held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }
}
