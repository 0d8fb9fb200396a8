/// How paths under one software_root become paths under another without moving a byte:
/// every occurrence of `<old root>/` that starts a path becomes the new root padded with
/// `/` to the old one's length (`/new/root////<md5>/lib` names `/new/root/<md5>/lib`).
///
/// Keeping lengths keeps what follows the root where it was: strings a linker merged by
/// suffix (a literal `"data"` is the tail of `"<root>/<md5>/share/data"`), offsets into
/// binaries, marshalled lengths in Python bytecode, and the size that a `.pyc` records of
/// its source. The padding goes after the new root rather than before it, as Spack does:
/// exactly two leading slashes are implementation-defined in POSIX, and Python's
/// `normpath` keeps them.
public struct RootRewrite: Sendable, Equatable {
    /// `<old root>/`, the bytes an occurrence is made of.
    public let old: [UInt8]
    /// What replaces them: as many bytes.
    public let replacement: [UInt8]

    /// Both roots normalised; refuses a new root longer than the old one, and roots that
    /// cannot be told apart from other paths.
    public init(from oldRoot: String, to newRoot: String) throws(RelocationRefused) {
        for root in [oldRoot, newRoot] {
            guard root.hasPrefix("/"), root.count > 1, normalisedRoot(root) == root, !root.utf8.contains(0) else {
                throw RelocationRefused("software_root '\(root)' is not an absolute path of its own (normalised, not /)")
            }
        }
        let old = Array(oldRoot.utf8)
        let new = Array(newRoot.utf8)
        guard new.count <= old.count else {
            throw RelocationRefused("a tree relocates to a path no longer than the one it was built under")
        }
        self.old = old + [UInt8(ascii: "/")]
        replacement = new + [UInt8](repeating: UInt8(ascii: "/"), count: old.count - new.count + 1)
    }

    /// Where a symlink target holds occurrences, none overlapping.
    public func occurrences(inTarget target: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + old.count <= target.count {
            let from = max(0, offset - PathStart.lookBehind - 1)
            if isOccurrence(in: target[from...], at: offset, startsFile: from == 0) {
                offsets.append(offset)
                offset += old.count
            } else {
                offset += 1
            }
        }
        return offsets
    }

    /// Whether `bytes[offset...]` is an occurrence that starts a path (or, in Python
    /// `bytecode`, a marshalled string); `bytes` must start at most
    /// `PathStart.lookBehind + 1` bytes before it, or at the start of the file (`startsFile`).
    public func isOccurrence(in bytes: ArraySlice<UInt8>, at offset: Int, startsFile: Bool, bytecode: Bool = false) -> Bool {
        guard offset >= bytes.startIndex, bytes.endIndex - offset >= old.count,
            bytes[offset..<(offset + old.count)].elementsEqual(old)
        else { return false }
        let before = bytes[bytes.startIndex..<offset]
        return PathStart.counts(after: before, atStart: startsFile)
            || (bytecode && PathStart.startsMarshalledString(after: before, length: old.count))
    }
}
