import Foundation
import NetcacheProtocol

/// An upload on its way into the store: a temporary file in the staging directory, hashed
/// as it is written.
///
/// Owns the file descriptor and the temporary file: unless it was moved into place, the
/// file is removed when the blob goes away, so an aborted upload leaves nothing behind.
public final class StagedBlob: @unchecked Sendable {
    private var descriptor: Int32
    private var temporaryPath: String?
    private let hasher = StreamingDigest.sha512()
    public private(set) var size = 0

    init(directory: URL) throws {
        var template = Array(directory.appendingPathComponent("upload-XXXXXX").path.utf8CString)
        descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw StorageError("cannot create a staging file in \(directory.path): \(String(cString: strerror(errno)))")
        }
        temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        discard()
    }

    /// Appends bytes; blocks, so `BlobStore.append` runs it off the cooperative pool.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT { throw StorageFull(reason: String(cString: strerror(errno))) }
                throw StorageError("cannot write a staging file: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        size += bytes.count
    }

    /// The staging file's path, until it is moved or removed.
    var path: String? { temporaryPath }

    /// A second descriptor on the file, for reading it while it is written (a mirror's
    /// clients read a blob as it arrives); it stays valid after the file is moved or removed.
    func openForReading() throws -> Int32 {
        guard let temporaryPath else { throw StorageError("the staging file is gone") }
        let reader = open(temporaryPath, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw StorageError("cannot reopen a staging file: \(String(cString: strerror(errno)))") }
        return reader
    }

    func finish() -> String {
        hasher.finalize()
    }

    func synchronize() throws {
        guard fsync(descriptor) == 0 else {
            if errno == ENOSPC || errno == EDQUOT { throw StorageFull(reason: String(cString: strerror(errno))) }
            throw StorageError("cannot sync a staging file: \(String(cString: strerror(errno)))")
        }
    }

    func move(to destination: String) throws {
        guard let temporaryPath else { return }
        guard rename(temporaryPath, destination) == 0 else {
            throw StorageError("cannot move a blob into place: \(String(cString: strerror(errno)))")
        }
        self.temporaryPath = nil
        closeDescriptor()
    }

    func discard() {
        if let temporaryPath {
            unlink(temporaryPath)
            self.temporaryPath = nil
        }
        closeDescriptor()
    }

    private func closeDescriptor() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }
}
