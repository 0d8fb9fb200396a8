import Foundation
import NetcacheProtocol

/// A compressed archive on its way to shacache: written to one temporary file (the only
/// copy on disk) and hashed as it is written.
final class SpooledArchive: @unchecked Sendable {
    let path: String
    private let handle: FileHandle
    private let digest = StreamingDigest.sha512()
    private(set) var size = 0

    init(directory: String, name: String) throws {
        let template = (directory as NSString).appendingPathComponent(".netcache-\(name)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: template, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: template)
        else { throw ArchiveError("cannot create a spool file in \(directory)") }
        path = template
        self.handle = handle
    }

    deinit {
        try? handle.close()
        unlink(path)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        digest.update(bytes)
        try handle.write(contentsOf: bytes)
        size += bytes.count
    }

    /// The SHA-512 of what was written. The spool is deleted after its upload, so it is
    /// not synced: durability is the server's job.
    func finish() -> String {
        digest.finalize()
    }
}
