import Foundation

/// The names in an open directory, `.` and `..` left out, as raw bytes with their
/// terminating zero: names need not be UTF-8. Reading through a descriptor, not a path,
/// keeps a directory that someone else may rename or replace pinned while it is read.
///
/// `readdir` ends a listing and fails it the same way, with `NULL`: only `errno` tells
/// them apart. A failure throws, so that no caller takes part of a directory for all of
/// it (publish would archive a tree with files missing); `path` names the directory in
/// its message.
func directoryEntries(of directory: Int32, path: String? = nil) throws -> [[CChar]] {
    let place = path ?? "a directory"
    let copy = dup(directory)
    guard copy >= 0, let stream = fdopendir(copy) else {
        let error = errno
        if copy >= 0 { close(copy) }
        throw ArchiveError("cannot list \(place): \(String(cString: strerror(error)))")
    }
    defer { closedir(stream) }
    rewinddir(stream)
    var names: [[CChar]] = []
    while true {
        errno = 0
        guard let entry = readdir(stream) else {
            guard errno == 0 else { throw ArchiveError("cannot list \(place): \(String(cString: strerror(errno)))") }
            return names
        }
        let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
            Array(bytes.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
        }
        if name == [46, 0] || name == [46, 46, 0] { continue }
        names.append(name)
    }
}
