import Foundation

/// The free space an upload must leave on the data directory's file system, so that a
/// blob never fills it: SQLite, the log and the node itself must still be able to write.
struct FreeSpace: Sendable {
    let directory: String
    /// Bytes that must stay free.
    let minimum: Int

    /// `minimum` given, or 1 GiB or 5 % of the file system, whichever is smaller.
    init(directory: String, minimum: Int?) throws {
        self.directory = directory
        if let minimum {
            self.minimum = minimum
        } else {
            let info = try Self.statistics(of: directory)
            self.minimum = min(1 << 30, Int(info.f_blocks) * Int(info.f_frsize) / 20)
        }
    }

    /// Bytes available to this process now.
    func available() throws -> Int {
        let info = try Self.statistics(of: directory)
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Whether `bytes` more can be written and `minimum` still be free.
    func admits(_ bytes: Int) throws -> Bool {
        try available() - bytes >= minimum
    }

    /// The same, off Swift's cooperative pool, for request handlers.
    func admitsWithoutBlocking(_ bytes: Int) async throws -> Bool {
        try await MetadataCalls.run { try admits(bytes) }
    }

    private static func statistics(of directory: String) throws -> statvfs {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else {
            throw StorageError("cannot check the free space of \(directory): \(String(cString: strerror(errno)))")
        }
        return info
    }
}
