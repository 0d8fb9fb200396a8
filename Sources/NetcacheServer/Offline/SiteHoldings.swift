import CArchive
import Foundation
import NetcacheProtocol

/// What an offline site already holds, for `export --have`: the blobs of a bundle it
/// imported (its member names, and the chunks of the indexes among them), or the chunks a
/// chunk index lists (kept by a node beside its installed release, in
/// `<software_root>/.netcache-indexes/<md5>`, or fetched from a cache) and the index itself.
public enum SiteHoldings {
    public static func blobs(heldBy path: String) throws -> Set<String> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BundleError("--have \(path): \(String(cString: strerror(errno)))") }
        var magic = [UInt8](repeating: 0, count: 4)
        // A chunk index is a zstd frame; anything else must be a bundle.
        guard read(descriptor, &magic, 4) == 4, magic == [0x28, 0xB5, 0x2F, 0xFD] else {
            close(descriptor)
            return try bundleBlobs(path)
        }
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            // Read from the descriptor already open, to one byte past the limit: a file
            // that grows meanwhile is as refused as one that was too large.
            let rest = try file.read(upToCount: ChunkIndex.blobSizeLimit - magic.count + 1) ?? Data()
            guard magic.count + rest.count <= ChunkIndex.blobSizeLimit else { throw BundleError("--have \(path): larger than a chunk index") }
            let bytes = magic + Array(rest)
            let index = try ChunkIndex(decoding: bytes)
            return Set(index.chunks.map(\.blob) + [StreamingDigest.sha512Hex(of: bytes)])
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError("--have \(path): \(error)")
        }
    }

    private static func bundleBlobs(_ path: String) throws -> Set<String> {
        guard let archive = archive_read_new() else { throw BundleError("libarchive cannot start a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, path, 1 << 20) == ARCHIVE_OK else {
            throw BundleError("--have \(path): neither a bundle nor a chunk index")
        }
        var held = Set<String>()
        var first = true
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK, let header else { throw BundleError("--have \(path): \(archive_error_string(archive).map { String(cString: $0) } ?? "unreadable")") }
            let name = archive_entry_pathname(header).map { String(cString: $0) } ?? ""
            if first {
                guard name == Bundle.marker else { throw BundleError("--have \(path): neither a bundle nor a chunk index") }
                first = false
            } else if name.hasPrefix(Bundle.blobPrefix), case let sha512 = String(name.dropFirst(Bundle.blobPrefix.count)), isSHA512Hex(sha512) {
                held.insert(sha512.lowercased())
                if archive_entry_size(header) <= ChunkIndex.blobSizeLimit, let bytes = try? readMember(archive) {
                    held.formUnion(ChunkIndex.blobs(namedByIndex: bytes))
                }
            }
        }
        return held
    }

    private static func readMember(_ archive: OpaquePointer) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            guard count > 0 else { throw BundleError("unreadable member") }
            // Only an index is worth reading whole: its first bytes say.
            if bytes.isEmpty, count >= 4, Array(buffer[0..<4]) != [0x28, 0xB5, 0x2F, 0xFD] { return [] }
            bytes += buffer[..<count]
        }
    }
}
