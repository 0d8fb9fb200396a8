import CLinux
import Foundation
import NetcacheClient

/// The private directory beside the target where a release is expanded, held by a file
/// descriptor from its creation to its removal.
///
/// software_root belongs to the node's software user, who may rename anything in it while
/// root installs. So after creation nothing is looked up through software_root by name
/// again: entries are written, the finished tree is moved and the leftovers removed
/// relative to the descriptor.
///
/// The descriptor also holds a lock, so that a later run can tell the directory of a live
/// process from one a killed process left.
final class StagingDirectory {
    static let prefix = ".netcache-install-"

    /// Where it was created, for messages.
    let path: String
    let descriptor: Int32

    init(in root: String) throws {
        var template = Array((root + "/" + Self.prefix + "XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw ConfigurationError("cannot create a staging directory in \(root): \(String(cString: strerror(errno)))")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do {
            descriptor = try Self.openCreated(path)
        } catch {
            // Still empty: rmdir removes nothing else, whoever's directory it now is.
            rmdir(path)
            throw error
        }
    }

    /// Opens and locks the directory just created, checking it is still the private one
    /// mkdtemp made.
    private static func openCreated(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let replaced = errno == ELOOP || errno == ENOTDIR || errno == ENOENT
            throw ConfigurationError(replaced ? "the staging directory \(path) was replaced as it was created" : "cannot open the staging directory \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        var failure: String?
        if fstat(descriptor, &status) != 0 {
            failure = "cannot stat the staging directory \(path): \(String(cString: strerror(errno)))"
        } else if status.st_uid != geteuid() || status.st_mode & 0o077 != 0 {
            failure = "the staging directory \(path) was replaced as it was created"
        } else if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            failure = errno == EWOULDBLOCK ? "the staging directory \(path) was replaced as it was created" : "cannot lock the staging directory \(path): \(String(cString: strerror(errno)))"
        }
        if let failure {
            close(descriptor)
            throw ConfigurationError(failure)
        }
        return descriptor
    }

    /// Something is at the target already: another process installed it meanwhile.
    struct TargetExists: Error {}

    /// Moves the directory `name` to `target`, only if nothing is there yet.
    func move(_ name: String, to target: String) throws {
        var status = stat()
        guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError("the archive holds no \(name)/ directory")
        }
        guard netcache_rename_noreplace(descriptor, name, target) == 0 else {
            if errno == EEXIST { throw TargetExists() }
            throw ConfigurationError("cannot move the release into \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes what it holds, then itself. Directories left without write or read
    /// permission (an archive may ask for that) are opened up first, since only root
    /// could remove through them.
    func remove() {
        Self.removeContents(of: descriptor)
        // If someone renamed it, this removes nothing of ours: what is left at the new
        // name is an empty directory.
        rmdir(path)
        close(descriptor)
    }

    /// Removes the staging directory `name` of `root` if it is netcache's and no live
    /// process holds it.
    static func removeIfStale(_ name: String, in root: Int32) {
        let descriptor = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_uid == geteuid(), status.st_mode & 0o077 == 0,
            flock(descriptor, LOCK_EX | LOCK_NB) == 0
        else { return }
        removeContents(of: descriptor)
        unlinkat(root, name, AT_REMOVEDIR)
    }

    private static func removeContents(of directory: Int32) {
        fchmod(directory, S_IRWXU)
        for name in (try? directoryEntries(of: directory)) ?? [] {
            if unlinkat(directory, name, 0) == 0 || errno != EISDIR { continue }
            fchmodat(directory, name, S_IRWXU, 0)
            let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { continue }
            removeContents(of: child)
            close(child)
            unlinkat(directory, name, AT_REMOVEDIR)
        }
    }
}
