import Foundation
import NetcacheClient

/// software_root, held by a descriptor while a release is installed or published in it:
/// where its locks, staging directories and leftovers are.
final class SoftwareRoot {
    let path: String
    let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ConfigurationError("cannot open software_root \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(descriptor)
    }

    /// Waits until no other netcache process installs or publishes the release.
    func lock(release md5: String) throws -> ReleaseLock {
        try ReleaseLock(root: self, md5: md5)
    }

    /// A new staging directory. Created under a shared lock of software_root, so that
    /// `removeLeftovers` never takes one that is not locked by its process yet.
    func makeStagingDirectory() throws -> StagingDirectory {
        flock(descriptor, LOCK_SH)
        defer { flock(descriptor, LOCK_UN) }
        return try StagingDirectory(in: path)
    }

    /// Removes what killed netcache processes left: staging trees and lock files that no
    /// live process holds. Spools have no name, so none can be left; root's lock files are
    /// in `/run`, emptied at boot.
    func removeLeftovers() {
        flock(descriptor, LOCK_EX)
        defer { flock(descriptor, LOCK_UN) }
        for raw in (try? directoryEntries(of: descriptor)) ?? [] {
            let name = String(cString: raw)
            if name.hasPrefix(StagingDirectory.prefix) {
                StagingDirectory.removeIfStale(name, in: descriptor)
            } else if name.hasPrefix(ReleaseLock.prefix) {
                ReleaseLock.removeIfStale(name, in: descriptor)
            }
        }
    }
}
