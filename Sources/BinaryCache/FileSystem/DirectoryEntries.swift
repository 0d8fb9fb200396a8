import Foundation

/// The names in an open directory, `.` and `..` left out, as raw bytes with their
/// terminating zero: names need not be UTF-8. Reading through a descriptor, not a path,
/// keeps a directory that someone else may rename or replace pinned while it is read.
func directoryEntries(of directory: Int32) throws -> [[CChar]] {
    let copy = dup(directory)
    guard copy >= 0, let stream = fdopendir(copy) else {
        let error = errno
        if copy >= 0 { close(copy) }
        throw ArchiveError("cannot list a directory: \(String(cString: strerror(error)))")
    }
    defer { closedir(stream) }
    rewinddir(stream)
    var names: [[CChar]] = []
    while let entry = readdir(stream) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
            Array(bytes.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
        }
        if name == [46, 0] || name == [46, 46, 0] { continue }
        names.append(name)
    }
    return names
}
