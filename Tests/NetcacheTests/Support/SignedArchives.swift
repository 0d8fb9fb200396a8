import CArchive
import Foundation

@testable import BinaryCache
@testable import NetcacheClient

/// Archives made entry by entry, hostile ones included, and filed in the fixture's cache
/// under a trusted signature: what the install tests feed the installer.
extension BinaryCacheFixture {
    enum Item {
        case directory(String, mode: UInt32 = 0o755)
        case file(String, mode: UInt32 = 0o644)
        /// A file of `size` zero bytes, read from a sparse file: bombs cost no disk.
        case zeros(String, size: Int)
        case symlink(String, target: String)
        case hardlink(String, target: String)
        case device(String)
        case fifo(String)
    }

    /// A pax tar of the items compressed as `format` says; each `.file` holds `fileSize`
    /// bytes of noise of its own, so that the archive is as large as its files.
    func archive(_ items: [Item], fileSize: Int = 5, format: BinaryEntry.Format = .zstd) throws -> [UInt8] {
        let content = directory.appendingPathComponent("content-\(UUID().uuidString)").path
        defer { unlink(content) }
        var state: UInt64 = 0x2545F4914F6CDD1D
        func nextNoise() throws {
            let noise = (0..<fileSize).map { _ -> UInt8 in
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return UInt8(truncatingIfNeeded: state)
            }
            try Data(noise).write(to: URL(fileURLWithPath: content))
        }
        var compressed: [UInt8] = []
        let sink: (UnsafeRawBufferPointer) throws -> Void = { compressed.append(contentsOf: $0) }
        let zstd = format == .zstd ? try ZstdCompressor(sink: sink) : nil
        let gzip = format == .gzip ? GzipCompressor(sink: sink) : nil
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let writer = try TarStreamWriter { bytes in
            try zstd?.compress(bytes)
            try gzip?.compress(bytes)
        }
        func contents(of path: String, size: Int) throws {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            defer { close(descriptor) }
            _ = try writer.writeContents(of: descriptor, path: path, expectedSize: size, buffer: &buffer)
        }
        for item in items {
            let entry = ArchiveEntry()
            archive_entry_set_mtime(entry.pointer, 1_600_000_000, 0)
            switch item {
            case .directory(let name, let mode):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o040000 | mode)
                try writer.write(entry)
            case .file(let name, let mode):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o100000 | mode)
                archive_entry_set_size(entry.pointer, la_int64_t(fileSize))
                try writer.write(entry)
                try nextNoise()
                try contents(of: content, size: fileSize)
            case .zeros(let name, let size):
                let sparse = directory.appendingPathComponent("zeros-\(size)").path
                if !FileManager.default.fileExists(atPath: sparse) {
                    guard FileManager.default.createFile(atPath: sparse, contents: nil), truncate(sparse, off_t(size)) == 0 else {
                        throw TestFailure("cannot make a sparse file of \(size) bytes")
                    }
                }
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o100644)
                archive_entry_set_size(entry.pointer, la_int64_t(size))
                try writer.write(entry)
                try contents(of: sparse, size: size)
            case .symlink(let name, let target):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o120777)
                archive_entry_set_symlink(entry.pointer, target)
                try writer.write(entry)
            case .hardlink(let name, let target):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o100644)
                archive_entry_set_hardlink(entry.pointer, target)
                try writer.write(entry)
            case .device(let name):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o020644)
                archive_entry_set_rdev(entry.pointer, 0x103)
                try writer.write(entry)
            case .fifo(let name):
                archive_entry_set_pathname(entry.pointer, name)
                archive_entry_set_mode(entry.pointer, 0o010644)
                try writer.write(entry)
            }
        }
        try writer.close()
        try zstd?.finish()
        try gzip?.finish()
        return compressed
    }

    /// The sizes a netcache entry signs; `nil` leaves them out.
    struct SignedSizes {
        var size: Int?
        var unpackedSize: Int?
        var fileCount: Int?
    }

    /// Uploads the archive and files a trusted entry for it: a netcache entry (zstd) under
    /// `netcache:<md5>`, or a legacy one (gzip, no sizes) under `<md5>`. `softwareURL`
    /// is what the entry names, `filedUnder` the release whose key it is filed under.
    /// `builtUnder` is the software_root it claims, `relocation` how it claims to move.
    /// Returns the archive's SHA-512.
    @discardableResult
    func publishArchive(
        _ archive: [UInt8], format: BinaryEntry.Format = .zstd, sizes: SignedSizes? = nil,
        softwareURL named: String? = nil, filedUnder release: String? = nil,
        builtUnder: String? = nil, relocation: RelocationRecord? = nil
    ) throws -> String {
        let path = directory.appendingPathComponent("archive-\(UUID().uuidString)").path
        try Data(archive).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let cache = try BinaryCacheSettings(file: INIFile(contentsOf: try config())).uploadCache()
        let sha512 = try cache.shacache.upload(file: path)
        let machine = Fingerprint.current(softwareRoot: softwareRoot)
        let sizes = sizes ?? SignedSizes(size: archive.count)
        let entry = BinaryEntry(
            sha512: sha512, softwareURL: named ?? softwareURL, softwareRoot: builtUnder ?? softwareRoot, multiarch: machine.multiarch,
            os: machine.os.tuple, libc: machine.libc, format: format, size: sizes.size, unpackedSize: sizes.unpackedSize,
            fileCount: sizes.fileCount, relocation: relocation)
        let url = release ?? softwareURL
        let key = format == .gzip ? BinaryEntry.legacyKey(softwareURL: url) : BinaryEntry.netcacheKey(softwareURL: url)
        try cache.index(key: key, sha512: sha512, metadata: entry.metadata)
        return sha512
    }
}

extension BinaryCacheFixture {
    /// Uploads a relocation manifest made of `lines` and returns the record that names it,
    /// as built under `root`.
    func uploadManifest(_ lines: [String], builtUnder root: String) throws -> RelocationRecord {
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        let path = directory.appendingPathComponent("manifest-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let cache = try BinaryCacheSettings(file: INIFile(contentsOf: try config())).uploadCache()
        let sha512 = try cache.shacache.upload(file: path)
        return RelocationRecord(from: root, refusal: nil, manifest: .init(sha512: sha512, size: bytes.count))
    }
}
