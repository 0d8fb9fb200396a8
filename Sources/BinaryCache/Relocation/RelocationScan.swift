import Foundation

/// Finds, while a release is packed, where its software_root occurs that relocation may
/// rewrite: in file contents, by kind, and in absolute symlink targets; or why the tree
/// cannot move. The chunk index, told each file's occurrences as it is packed, puts its
/// placeholders there.
///
/// Reads each file a second time (from the page cache, since the packer just read it).
final class RelocationScan: PackObserver {
    private let from: String
    private var refusal: String?
    private var scanner: OccurrenceScanner
    /// The last file or symlink that holds occurrences, with their offsets (none for a
    /// symlink): the chunk index normalises exactly what relocation rewrites.
    private(set) var listed: (path: String, offsets: [Int])?
    /// More occurrences than this in one file make the tree stay: its index would hold them
    /// all in memory on every node.
    static let occurrenceLimit = 1 << 19

    init(softwareRoot: String) {
        from = normalisedRoot(softwareRoot)
        scanner = OccurrenceScanner(pattern: Array((from + "/").utf8))
        if from.count < 2 { refusal = "software_root '\(from)' cannot be told apart from the paths below it" }
    }

    func packedFile(_ relative: String, descriptor: Int32) throws {
        guard refusal == nil else { return }
        let bytecode = relative.hasSuffix(".pyc")
        let (offsets, ambiguous, hasNUL) = try scanner.scan(descriptor, path: relative, bytecode: bytecode)
        // In text, `x<root>` is a relative path; in a binary it may be a path behind a
        // length or another format's header: not knowing, the tree stays put.
        if let ambiguous, bytecode || hasNUL {
            refusal = "\(relative) holds software_root at byte \(ambiguous) where no path starts"
            return
        }
        guard !offsets.isEmpty else { return }
        let kind: RelocationManifest.Kind
        if bytecode {
            kind = .bytecode
        } else if try Self.starts(descriptor, with: [0x7F, 0x45, 0x4C, 0x46], path: relative) {
            kind = .elf
        } else if try Self.starts(descriptor, with: [0x50, 0x4B, 0x03, 0x04], path: relative) {
            refusal = "zip archive \(relative) holds software_root: its checksums would no longer match once rewritten"
            return
        } else {
            kind = hasNUL ? .binary : .text
        }
        if kind == .elf || kind == .binary {
            if let outside = try firstOutsideACString(offsets, descriptor: descriptor, path: relative) {
                refusal = "\(kind == .elf ? "ELF file" : "binary file") \(relative) holds software_root at byte \(outside) outside a C string"
                return
            }
        }
        guard offsets.count <= Self.occurrenceLimit else {
            refusal = "\(relative) holds software_root in too many places (\(offsets.count)) to list"
            return
        }
        listed = (relative, offsets)
    }

    func packedSymlink(_ relative: String, target: String) throws {
        guard refusal == nil, Self.namesRoot(Array(target.utf8), pattern: scanner.pattern) else { return }
        listed = (relative, [])
    }

    /// The first name was scanned: patching its inode patches every name.
    func packedHardLink(_ relative: String, to first: String) {}

    /// The record for the entry: a chunked entry lists its occurrences in its index, so
    /// it names no manifest.
    func record() -> RelocationRecord {
        RelocationRecord(from: from, refusal: refusal, manifest: nil)
    }

    /// Whether a symlink target holds an occurrence that starts a path.
    static func namesRoot(_ target: [UInt8], pattern: [UInt8]) -> Bool {
        guard target.count >= pattern.count else { return false }
        return (0...(target.count - pattern.count)).contains { offset in
            target[offset..<(offset + pattern.count)].elementsEqual(pattern)
                && PathStart.counts(after: target[max(0, offset - PathStart.lookBehind - 1)..<offset], atStart: offset <= PathStart.lookBehind + 1)
        }
    }

    /// The first occurrence that is not in a NUL-terminated printable string, which
    /// nothing could tell from other data; `nil` when every one is.
    private func firstOutsideACString(_ offsets: [Int], descriptor: Int32, path: String) throws -> Int? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for offset in offsets {
            let count = buffer.withUnsafeMutableBytes { preadFully(descriptor, $0, at: offset) }
            guard count > 0 else { throw ArchiveError("cannot read \(path): \(String(cString: strerror(errno)))") }
            guard let end = buffer[..<count].firstIndex(of: 0), buffer[..<end].allSatisfy({ (0x20...0x7E).contains($0) }) else {
                return offset
            }
        }
        return nil
    }

    /// A read that fails is an error: taking the file for another kind would sign a wrong
    /// manifest.
    private static func starts(_ descriptor: Int32, with magic: [UInt8], path: String) throws -> Bool {
        var bytes = [UInt8](repeating: 0, count: magic.count)
        guard bytes.withUnsafeMutableBytes({ preadFully(descriptor, $0, at: 0) }) >= 0 else {
            throw ArchiveError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return bytes == magic
    }
}
