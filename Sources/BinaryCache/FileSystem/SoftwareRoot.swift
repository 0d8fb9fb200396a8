import Foundation
import NetcacheClient

/// software_root, held by a descriptor while a release is installed or published in it:
/// where its locks, staging directories and leftovers are.
final class SoftwareRoot {
    let path: String
    let descriptor: Int32
    private let identity: String

    /// Release locks in software_root (those of users other than root).
    static let lockPrefix = ".netcache-lock-"

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0 else {
            throw ConfigurationError("cannot open software_root \(path): \(String(cString: strerror(errno)))")
        }
        // Root's locks are named after the directory itself, however its path is spelt.
        identity = "\(status.st_dev)-\(status.st_ino)"
    }

    deinit {
        close(descriptor)
    }

    /// Waits until no other netcache process installs or publishes the release.
    func lock(release md5: String) throws -> LockFile {
        if geteuid() == 0 {
            return try LockFile(identity + "-" + md5, in: try LockFile.openRootDirectory(), place: LockFile.rootDirectory, exclusive: true, removeWhenReleased: true)
        }
        return try LockFile(Self.lockPrefix + md5, in: try reopen(), place: path, exclusive: true, removeWhenReleased: true)
    }

    /// A new staging directory. Created under a shared lock of software_root, so that
    /// `removeLeftovers` never takes one that is not locked by its process yet.
    func makeStagingDirectory() throws -> StagingDirectory {
        let lock = try coordination(exclusive: false)
        return try withExtendedLifetime(lock) { try StagingDirectory(in: path) }
    }

    /// Removes what killed netcache processes left: staging trees and lock files that no
    /// live process holds. Spools have no name, so none can be left; root's lock files are
    /// in `/run`, emptied at boot.
    func removeLeftovers() throws {
        let lock = try coordination(exclusive: true)
        defer { withExtendedLifetime(lock) {} }
        for raw in (try? directoryEntries(of: descriptor)) ?? [] {
            let name = String(decoding: raw.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if name.hasPrefix(StagingDirectory.prefix) {
                StagingDirectory.removeIfStale(name, in: descriptor)
            } else if name.hasPrefix(Self.lockPrefix), geteuid() != 0 {
                LockFile.removeIfStale(name, in: descriptor)
            }
        }
    }

    /// The lock between making staging directories and removing leftovers. Root's is a
    /// file of its own: anyone who can read software_root could hold the directory's flock.
    private func coordination(exclusive: Bool) throws -> LockFile {
        if geteuid() == 0 {
            return try LockFile(identity, in: try LockFile.openRootDirectory(), place: LockFile.rootDirectory, exclusive: exclusive, removeWhenReleased: false)
        }
        return try LockFile(directory: try reopen(), place: path, exclusive: exclusive)
    }

    /// A descriptor of software_root of its own: a flock belongs to one opening of a file,
    /// and is released only when every descriptor of that opening is closed.
    private func reopen() throws -> Int32 {
        let copy = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0 else { throw ConfigurationError("cannot lock in \(path): \(String(cString: strerror(errno)))") }
        return copy
    }
}
