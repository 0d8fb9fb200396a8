import CLinux
import Foundation
import NetcacheClient

/// The private directory beside the target where a release is expanded, held by a file
/// descriptor from its creation to its removal.
///
/// software_root belongs to the node's software user, who may rename anything in it while
/// root installs. So after creation nothing is looked up through software_root by name
/// again: extraction runs with this directory as the working directory, and the finished
/// tree is moved and the leftovers removed relative to the descriptor.
final class StagingDirectory {
    /// Where it was created, for messages.
    let path: String
    private let descriptor: Int32

    init(in root: String) throws {
        var template = Array((root + "/.netcache-install-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw ConfigurationError("cannot create a staging directory in \(root): \(String(cString: strerror(errno)))")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0, status.st_uid == geteuid(), status.st_mode & 0o077 == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw ConfigurationError("the staging directory \(path) was replaced as it was created")
        }
        self.descriptor = descriptor
    }

    /// Runs `body` with this directory as the process's working directory, so that the
    /// relative names `body` writes resolve from the directory itself, wherever it is
    /// renamed meanwhile. The working directory is restored afterwards.
    func withWorkingDirectory<T>(_ body: () throws -> T) throws -> T {
        let previous = netcache_open_path(".")
        guard previous >= 0 else { throw ArchiveError("cannot note the working directory: \(String(cString: strerror(errno)))") }
        defer {
            fchdir(previous)
            close(previous)
        }
        guard fchdir(descriptor) == 0 else { throw ArchiveError("cannot enter \(path): \(String(cString: strerror(errno)))") }
        return try body()
    }

    /// Flushes the file system holding the tree: one `syncfs` instead of an fsync per file,
    /// so that the release is on disk before it becomes visible under its name.
    func sync() {
        netcache_syncfs(descriptor)
    }

    /// Moves the directory `name` to `target`, only if nothing is there yet.
    func move(_ name: String, to target: String) throws {
        var status = stat()
        guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError("the archive holds no \(name)/ directory")
        }
        guard netcache_rename_noreplace(descriptor, name, target) == 0 else {
            throw ConfigurationError("cannot move the release into \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes what it holds, then itself. Directories left without write or read
    /// permission (an archive may ask for that) are opened up first, since only root
    /// could remove through them.
    func remove() {
        removeContents(of: descriptor)
        close(descriptor)
        // If someone renamed it, this removes nothing of ours: what is left at the new
        // name is an empty directory.
        rmdir(path)
    }

    private func removeContents(of directory: Int32) {
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
