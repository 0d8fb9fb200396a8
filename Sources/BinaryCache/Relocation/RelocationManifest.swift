import NetcacheProtocol

/// Where software_root occurs in a release tree, as netcache's whole-archive (zstd) entries
/// sign it: a blob of its own, named and sized by the signed entry (`RelocationRecord`).
/// Chunked entries list the occurrences in their index instead; these entries, published
/// by earlier versions, still install. One JSON array per line, in the order the tree was
/// packed:
///
///     ["elf","bin/python3.11",[1208,5512]]
///     ["symlink","lib/libz.so"]
///
/// Files carry the byte offsets of the occurrences (`RootRewrite` rewrites them in place);
/// symlinks are those whose target holds the root. Lines are read one at a time, so the
/// manifest's size never becomes memory.
public enum RelocationManifest {
    /// What the scan took a file for; every kind of file is rewritten the same way, the
    /// kind says why its occurrences were judged safe to rewrite.
    public enum Kind: String, Sendable, CaseIterable {
        /// No NUL byte: any occurrence.
        case text
        /// Python bytecode: its strings carry their lengths, which the rewrite keeps.
        case bytecode
        /// ELF files and other binaries: occurrences in NUL-terminated printable strings.
        case elf
        case binary
        /// An absolute symlink target under the root.
        case symlink
    }

    public struct Item: Sendable, Equatable {
        public let kind: Kind
        public let path: TreePath
        /// Strictly increasing; empty for a symlink.
        public let offsets: [Int]
    }

    /// A manifest line longer than this is refused rather than read into memory (its
    /// offsets, parsed, take several times as much).
    static let lineLimit = 4 << 20

    /// Reads one line (without its newline), refusing anything but the format above.
    public static func item(parsing line: some Collection<UInt8>) throws(RelocationRefused) -> Item {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: line)
        } catch {
            throw RelocationRefused("a line that is not JSON (\(error))")
        }
        guard let fields = value.arrayValue, fields.count >= 2, let name = fields[0].stringValue, let text = fields[1].stringValue else {
            throw RelocationRefused("a line that is not [kind, path, offsets]")
        }
        guard let kind = Kind(rawValue: name) else { throw RelocationRefused("an unknown kind '\(name.prefix(40))'") }
        let path = try TreePath(validating: text)
        if kind == .symlink {
            guard fields.count == 2 else { throw RelocationRefused("symlink \(path) with offsets") }
            return Item(kind: kind, path: path, offsets: [])
        }
        guard fields.count == 3, let list = fields[2].arrayValue, !list.isEmpty else {
            throw RelocationRefused("\(kind.rawValue) file \(path) without offsets")
        }
        var offsets: [Int] = []
        offsets.reserveCapacity(list.count)
        for element in list {
            guard case .integer(let offset) = element, offset >= 0, offset > (offsets.last ?? -1) else {
                throw RelocationRefused("\(kind.rawValue) file \(path): offsets that are not increasing whole numbers")
            }
            offsets.append(offset)
        }
        return Item(kind: kind, path: path, offsets: offsets)
    }
}
