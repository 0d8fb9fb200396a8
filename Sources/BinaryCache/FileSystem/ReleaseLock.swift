import Foundation
import NetcacheClient

/// One release's lock in software_root, held while it is installed or published: two
/// installs of one release never write at once, and two publishes never both file an
/// entry. `.netcache-lock-<md5>` is flock'ed, and removed when released.
///
/// The file is in a directory software_root's owner controls, so it is opened without
/// following a symlink or blocking on a FIFO, and must be a regular file of ours with one
/// link: anything the owner put in its place is refused, never written to.
final class ReleaseLock {
    static let prefix = ".netcache-lock-"
    private let root: Int32
    private let name: String
    private let descriptor: Int32

    /// Waits for the lock. `root` is software_root's descriptor, kept by the caller.
    init(root: Int32, md5: String, rootPath: String) throws {
        self.root = root
        name = Self.prefix + md5
        while true {
            let descriptor = try Self.open(name, in: root, path: rootPath)
            guard flock(descriptor, LOCK_EX) == 0 else {
                let error = errno
                close(descriptor)
                throw ConfigurationError("cannot lock \(rootPath)/\(name): \(String(cString: strerror(error)))")
            }
            // Whoever held it before may have removed it meanwhile: then lock the new one.
            if Self.isStillNamed(name, descriptor, in: root) {
                self.descriptor = descriptor
                return
            }
            close(descriptor)
        }
    }

    deinit {
        unlinkat(root, name, 0)
        close(descriptor)
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
