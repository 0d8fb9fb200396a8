import CArchive
import Foundation
import NetcacheClient
import NetcacheProtocol

/// `netcache export`: entries of a data directory and the blobs they name, as a bundle.
/// Reads only, so that it may run beside the server that owns the directory.
public enum BundleExport {
    public struct Summary: Sendable {
        public let entries: Int
        public let blobs: Int
    }

    /// Writes the entries of `keys` (every key when `nil`) and every blob they name that is
    /// stored (a chunked release's chunks included) and not in `have`, what the site holds
    /// already; an absent blob is said through `warn`, each blob written through
    /// `progress` (blobs and bytes so far).
    public static func write(
        dataDirectory: URL, keys: [String]?, have: Set<String> = [], to path: String, warn: (String) -> Void,
        progress: (_ blobs: Int, _ bytes: Int) -> Void = { _, _ in }
    ) async throws -> Summary {
        guard FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("shadir.sqlite").path) else {
            throw BundleError("\(dataDirectory.path) is not a netcache data directory (no shadir.sqlite)")
        }
        let store = try SQLiteEntryDirectory(dataDirectory: dataDirectory)
        let chunks = IndexedChunks(files: dataDirectory)
        var lines: [String] = []
        var blobs: [String] = []
        var named = Set<String>()
        let chosen: [String]
        if let keys {
            // The roots' documents go with the entries: the site's nodes need them to trust any.
            let documents = try await store.keys().filter { $0.hasPrefix(TrustKeys.documentPrefix) && !keys.contains($0) }
            chosen = keys + documents
        } else {
            chosen = try await store.keys()
        }
        for key in chosen {
            let bodies = try await store.bodies(for: key)
            if bodies.isEmpty { warn("no entry under \(key)") }
            for body in bodies {
                lines.append(JSONValue.object(JSONObject([("key", .string(key)), ("body", .string(body))])).pythonJSON)
                for sha512 in try await chunks.blobs(namedBy: body) where !have.contains(sha512) && named.insert(sha512).inserted {
                    if FileManager.default.fileExists(atPath: FileBlobStore.path(for: sha512, inDataDirectory: dataDirectory)) {
                        blobs.append(sha512)
                    } else {
                        warn("\(key): blob \(sha512.prefix(16))… is not stored here; the entry goes without it")
                    }
                }
            }
        }
        let output = try OutputFile(path: path)
        try writeArchive(to: output.fileDescriptor, path: path) { archive in
            try add(Array(Bundle.markerContent.utf8), as: Bundle.marker, to: archive, path: path)
            var bytes = 0
            for (index, sha512) in blobs.enumerated() {
                let file = FileBlobStore.path(for: sha512, inDataDirectory: dataDirectory)
                try addFile(file, as: Bundle.blobPrefix + sha512, to: archive, path: path)
                var status = stat()
                if stat(file, &status) == 0 { bytes += Int(status.st_size) }
                progress(index + 1, bytes)
            }
            try add(Array(lines.map { $0 + "\n" }.joined().utf8), as: Bundle.entries, to: archive, path: path)
        }
        try output.commit()
        return Summary(entries: lines.count, blobs: blobs.count)
    }

    private static func writeArchive(to descriptor: Int32, path: String, _ body: (OpaquePointer) throws -> Void) throws {
        guard let archive = archive_write_new() else { throw BundleError("libarchive cannot start a writer") }
        defer { archive_write_free(archive) }
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK, archive_write_open_fd(archive, descriptor) == ARCHIVE_OK else {
            throw failure(archive, path)
        }
        try body(archive)
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure(archive, path) }
    }

    private static func header(_ name: String, size: Int, to archive: OpaquePointer, path: String) throws {
        guard let entry = archive_entry_new() else { throw BundleError("libarchive cannot make an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_size(entry, la_int64_t(size))
        archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG, a macro Swift does not import
        archive_entry_set_perm(entry, 0o644)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure(archive, path) }
    }

    private static func add(_ bytes: [UInt8], as name: String, to archive: OpaquePointer, path: String) throws {
        try header(name, size: bytes.count, to: archive, path: path)
        let written = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw failure(archive, path) }
    }

    private static func addFile(_ file: String, as name: String, to archive: OpaquePointer, path: String) throws {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BundleError("cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw BundleError("cannot stat \(file): \(String(cString: strerror(errno)))") }
        try header(name, size: Int(status.st_size), to: archive, path: path)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = Int(status.st_size)
        while remaining > 0 {
            let count = read(descriptor, &buffer, min(buffer.count, remaining))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw BundleError("cannot read \(file): \(count < 0 ? String(cString: strerror(errno)) : "shorter than its size")") }
            let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, count) }
            guard written == count else { throw failure(archive, path) }
            remaining -= count
        }
    }

    private static func failure(_ archive: OpaquePointer, _ path: String) -> BundleError {
        BundleError("cannot write \(path): \(archive_error_string(archive).map { String(cString: $0) } ?? "libarchive failed")")
    }
}
