import CLinux
import Foundation
import NetcacheProtocol

/// A compressed archive on its way to shacache: written to an unnamed file (`O_TMPFILE`)
/// in a directory, hashed as it is written, and uploaded from its descriptor.
///
/// The file never has a name. software_root's owner, who may rename anything in it while
/// root publishes, has no name to put a symlink in place of, and nothing is left behind
/// however the process ends.
public final class SpooledArchive: @unchecked Sendable {
    /// Open for reading and writing until the archive is released.
    public let descriptor: Int32
    private let digest = StreamingDigest.sha512()
    public private(set) var size = 0

    init(directory: String) throws {
        descriptor = netcache_open_unnamed(directory)
        guard descriptor >= 0 else {
            let reason = errno == EOPNOTSUPP || errno == EISDIR ? "its file system has no unnamed files (O_TMPFILE)" : String(cString: strerror(errno))
            throw ArchiveError("cannot create a spool file in \(directory): \(reason)")
        }
    }

    deinit {
        close(descriptor)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        digest.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw ArchiveError("cannot write the spool file: \(String(cString: strerror(errno)))") }
            offset += written
        }
        size += bytes.count
    }

    /// The SHA-512 of what was written. The spool disappears with its descriptor, so it is
    /// not synced: durability is the server's job.
    public func finish() -> String {
        digest.finalize()
    }
}
