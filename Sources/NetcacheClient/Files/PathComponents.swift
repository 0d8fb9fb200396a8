/// The components of a path, split at its `/` bytes. Swift's `String.split(separator:)`,
/// `hasPrefix` and `contains` work on grapheme clusters, to which a `/` after a prepend
/// character (U+0600) or before a combining mark is no separator: to the kernel it is one.
/// Paths that reach the file system are split and tested here, on bytes.
public func pathComponents(_ path: String, omittingEmpty: Bool = true) -> [String] {
    path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: omittingEmpty).map { String(decoding: $0, as: UTF8.self) }
}

/// Whether the path starts with a `/` byte.
public func isAbsolutePath(_ path: String) -> Bool {
    path.utf8.first == UInt8(ascii: "/")
}

/// Whether `name` can be opened as one component below a directory: not empty, no `/` or
/// NUL byte, not `.` or `..` (compared as bytes).
public func isPlainComponent(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    return !bytes.isEmpty && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0) && bytes != [0x2E] && bytes != [0x2E, 0x2E]
}
