import CLinux
import Foundation

/// Finds, while a release is packed, where its software_root occurs: in file contents, by
/// kind, and in absolute symlink targets.
///
/// Reads each file a second time (from the page cache, since the packer just read it).
final class RelocationScan: PackObserver {
    private var manifest: RelocationManifest
    private let pattern: [UInt8]
    /// One buffer for every file: a fresh megabyte per file cost a release of 16,000 files
    /// 16 s of page faults.
    private var buffer: [UInt8]
    /// Entries list files; past this, the tree is too entangled with its root to list.
    private static let manifestLimit = 512 << 10

    init(softwareRoot: String) {
        manifest = RelocationManifest(from: softwareRoot)
        pattern = Array((softwareRoot + "/").utf8)
        buffer = [UInt8](repeating: 0, count: Self.chunk + pattern.count)
    }

    func packedFile(_ relative: String, descriptor: Int32) throws {
        let (offsets, hasNUL) = try Self.occurrences(of: pattern, in: descriptor, path: relative, buffer: &buffer)
        guard !offsets.isEmpty else { return }
        if relative.hasSuffix(".pyc") {
            manifest.bytecode.append(relative)
        } else if try Self.isELF(descriptor) {
            try addStrings(at: offsets, of: relative, descriptor: descriptor, kind: "ELF file") { manifest.elf[relative] = $0 }
        } else if !hasNUL {
            manifest.text.append(relative)
        } else {
            try addStrings(at: offsets, of: relative, descriptor: descriptor, kind: "binary file") { manifest.binary[relative] = $0 }
        }
    }

    func packedSymlink(_ relative: String, target: String) {
        if target.utf8.starts(with: pattern) { manifest.symlinks.append(relative) }
    }

    /// The first name was scanned: patching its inode patches every name.
    func packedHardLink(_ relative: String, to first: String) {}

    func record() -> RelocationManifest {
        var manifest = manifest
        if manifest.refusal == nil, manifest.json.pythonJSON.utf8.count > Self.manifestLimit {
            manifest = RelocationManifest(from: manifest.from)
            manifest.refusal = "software_root occurs in too many places to list in the entry"
        }
        return manifest
    }

    /// Keeps occurrences that are NUL-terminated printable strings, the only ones that can
    /// be rewritten in place; any other makes the tree not relocatable.
    private func addStrings(at offsets: [Int], of relative: String, descriptor: Int32, kind: String, add: ([Int]) -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for offset in offsets {
            let count = pread(descriptor, &buffer, buffer.count, off_t(offset))
            guard count > 0 else { throw ArchiveError("cannot read \(relative): \(String(cString: strerror(errno)))") }
            let end = buffer[..<count].firstIndex(of: 0)
            guard let end, buffer[..<end].allSatisfy({ (0x20...0x7E).contains($0) }) else {
                if manifest.refusal == nil { manifest.refusal = "\(kind) \(relative) holds software_root at byte \(offset) outside a C string" }
                return
            }
        }
        add(offsets)
    }

    private static func isELF(_ descriptor: Int32) throws -> Bool {
        var magic = [UInt8](repeating: 0, count: 4)
        return pread(descriptor, &magic, 4, 0) == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }

    static let chunk = 1 << 20

    /// Every offset of `pattern` in the file, and whether it holds a NUL byte at all;
    /// `buffer` holds `chunk` bytes and the pattern's length.
    static func occurrences(of pattern: [UInt8], in descriptor: Int32, path: String, buffer: inout [UInt8]) throws -> ([Int], Bool) {
        var carried = 0
        var position = 0
        var offsets: [Int] = []
        var hasNUL = false
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + carried, chunk, off_t(position)) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw ArchiveError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            let available = carried + count
            if !hasNUL, buffer[carried..<available].contains(0) { hasNUL = true }
            let base = position - carried
            var start = 0
            while start + pattern.count <= available {
                guard let found = buffer.withUnsafeBytes({ bytes -> Int? in
                    pattern.withUnsafeBytes { needle in
                        netcache_memmem(bytes.baseAddress! + start, available - start, needle.baseAddress!, pattern.count)
                            .map { $0 - UnsafeRawPointer(bytes.baseAddress!) }
                    }
                }) else { break }
                offsets.append(base + found)
                start = found + 1
            }
            carried = min(pattern.count - 1, available)
            // In place: a slice of the buffer itself would copy the whole megabyte.
            let keep = carried
            buffer.withUnsafeMutableBytes { bytes in
                _ = memmove(bytes.baseAddress!, bytes.baseAddress! + available - keep, keep)
            }
            position += count
        }
        return (offsets, hasNUL)
    }
}
