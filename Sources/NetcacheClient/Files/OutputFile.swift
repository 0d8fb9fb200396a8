import Foundation

/// A file that appears under its name only once complete: written to a hidden sibling,
/// fsynced, renamed over the name, and its directory fsynced. Dropped, leaving nothing,
/// when not committed.
public final class OutputFile {
    public let path: String
    private let stagingPath: String
    private let directory: String
    private var descriptor: Int32

    public init(path: String) throws(FileWriteError) {
        let url = URL(fileURLWithPath: path)
        self.path = path
        directory = url.deletingLastPathComponent().path
        stagingPath = directory + "/." + url.lastPathComponent + ".netcache-" + UUID().uuidString
        descriptor = open(stagingPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError("cannot create \(stagingPath)", errno: errno) }
    }

    deinit {
        discard()
    }

    /// The open file, for writers that take a descriptor (libarchive); `write` and
    /// `commit` still go through this object.
    public var fileDescriptor: Int32 { descriptor }

    /// Writes every byte, or throws (a full disk included).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        if let code = writeFully(descriptor, bytes) { throw FileWriteError("cannot write \(path)", errno: code) }
    }

    /// Makes the file appear under its name, durably.
    public func commit() throws(FileWriteError) {
        guard descriptor >= 0 else { throw FileWriteError("\(path) was already committed or dropped") }
        guard fsync(descriptor) == 0 else { throw FileWriteError("cannot write \(path)", errno: errno) }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw FileWriteError("cannot write \(path)", errno: errno) }
        guard rename(stagingPath, path) == 0 else {
            let error = errno
            unlink(stagingPath)
            throw FileWriteError("cannot rename into \(path)", errno: error)
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw FileWriteError("cannot open \(directory)", errno: errno) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw FileWriteError("cannot sync \(directory)", errno: errno) }
    }

    /// Removes what was written; the name is untouched.
    public func discard() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(stagingPath)
    }
}
