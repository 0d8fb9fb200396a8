import Foundation

/// `<data>/lock`, flock'ed for as long as a server uses the data directory.
///
/// Two servers on one directory would each empty the other's staging at start-up, and the
/// shadir listing cache holds only because its process is the database's one writer.
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    init(dataDirectory: URL) throws {
        let path = dataDirectory.appendingPathComponent("lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            if error == EWOULDBLOCK {
                throw StorageError("data directory \(dataDirectory.path) is in use by another netcache serve")
            }
            throw StorageError("cannot lock \(path): \(String(cString: strerror(error)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
