import Foundation

/// What an archive may take of software_root while it is expanded, checked as it goes,
/// not only before: the bytes are verified only when the stream ends, and a hostile stream
/// (a zstd bomb from whoever controls a plain-HTTP cache) must not fill the file system
/// first.
struct ExtractionBudget {
    /// At most this many entries (`file_count` of a netcache entry).
    let entries: Int?
    /// At most this many bytes of file content (`unpacked_size`).
    let bytes: Int?
    /// Free space to leave on software_root's file system: software_min_free_space for
    /// entries that sign no sizes, and `fixedFloor` at least.
    let freeSpaceFloor: Int
    /// Where the floor is checked, for messages.
    let root: String

    /// Kept free however small software_min_free_space is: the node must keep working.
    static let fixedFloor = 16 << 20
    /// Free space is looked up again after this many bytes.
    private static let checkInterval = 4 << 20

    private var entriesSeen = 0
    private var bytesSeen = 0
    private var sinceCheck = Int.max

    init(entries: Int?, bytes: Int?, freeSpaceFloor: Int, root: String) {
        self.entries = entries
        self.bytes = bytes
        self.freeSpaceFloor = max(freeSpaceFloor, Self.fixedFloor)
        self.root = root
    }

    mutating func admitEntry(_ name: String) throws {
        entriesSeen += 1
        if let entries, entriesSeen > entries {
            throw ArchiveError("the archive holds more than the \(entries) entries its entry signed (file_count), at \(name)")
        }
    }

    /// Before `count` more bytes of `name` are written on the file system of `descriptor`.
    mutating func admit(bytes count: Int, of name: String, on descriptor: Int32) throws {
        bytesSeen += count
        if let bytes, bytesSeen > bytes {
            throw ArchiveError("the archive expands to more than the \(bytes) bytes its entry signed (unpacked_size), at \(name)")
        }
        sinceCheck = sinceCheck > Self.checkInterval ? 0 : sinceCheck + count
        guard sinceCheck == 0 || count >= Self.checkInterval else { return }
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else {
            throw ArchiveError("cannot check the free space of \(root): \(String(cString: strerror(errno)))")
        }
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        if available - count - Self.checkInterval < freeSpaceFloor {
            throw ArchiveError("not enough space in \(root) to go on at \(name): \(available >> 20) MiB left, \(freeSpaceFloor >> 20) MiB must stay free (software_min_free_space)")
        }
    }
}
