import CArchive
import Foundation

/// An `archive_entry`, owned.
final class ArchiveEntry {
    let pointer: OpaquePointer

    init() {
        pointer = archive_entry_new()
    }

    deinit {
        archive_entry_free(pointer)
    }

    func set(pathname: String, status: stat, owner: String, group: String) {
        archive_entry_set_pathname_utf8(pointer, pathname)
        archive_entry_set_mode(pointer, status.st_mode)
        archive_entry_set_mtime(pointer, status.st_mtim.tv_sec, 0)
        archive_entry_set_uid(pointer, 0)
        archive_entry_set_gid(pointer, 0)
        archive_entry_set_uname_utf8(pointer, owner)
        archive_entry_set_gname_utf8(pointer, group)
        archive_entry_set_size(pointer, 0)
    }

    /// For an entry described by a chunk index rather than a file's status.
    func set(pathname: String, type: mode_t, permissions: UInt32, mtime: Int) {
        archive_entry_set_pathname_utf8(pointer, pathname)
        archive_entry_set_mode(pointer, type | mode_t(permissions))
        archive_entry_set_mtime(pointer, mtime, 0)
        archive_entry_set_size(pointer, 0)
    }

    func setSymlink(_ target: String) {
        archive_entry_set_symlink_utf8(pointer, target)
    }

    func setHardlink(_ target: String) {
        archive_entry_set_hardlink_utf8(pointer, target)
        archive_entry_set_size(pointer, 0)
    }

    func setSize(_ size: Int) {
        archive_entry_set_size(pointer, la_int64_t(size))
    }
}
