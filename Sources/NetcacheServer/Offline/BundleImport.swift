import CArchive
import Foundation
import NetcacheProtocol

/// `netcache import`: loads a bundle into a data directory, for a server at a site with no
/// network. Every blob must hash to its name and every entry must be a valid shadir body;
/// entries are filed only once every blob of the bundle verified, byte for byte as they
/// were PUT where the bundle was made.
public enum BundleImport {
    public struct Summary: Sendable {
        public let blobs: Int
        public let entries: Int
        public let newEntries: Int
        /// Entries the vetting refused, with why: not filed.
        public let refused: [(key: String, reason: String)]
    }

    /// Decides, once every entry of the bundle is known, which are not filed, and why (by
    /// their index in `entries`).
    public typealias Vetting = (_ entries: [(key: String, body: String)]) throws -> [Int: String]

    /// Entries files larger than this are not a bundle's.
    private static let entriesLimit = 256 << 20

    /// `progress` is told of the blobs stored so far and the bundle's bytes read.
    public static func read(
        _ path: String, into dataDirectory: URL, vetting: Vetting? = nil, progress: (_ blobs: Int, _ bytes: Int) -> Void = { _, _ in }
    ) async throws -> Summary {
        guard let archive = archive_read_new() else { throw BundleError("libarchive cannot start a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, path, 1 << 20) == ARCHIVE_OK else {
            let code = archive_errno(archive)
            throw code > 0 ? BundleError("cannot read \(path): \(String(cString: strerror(code)))") : failure(archive, path)
        }
        // Only once the bundle opens: a mistyped bundle must not leave an empty cache behind.
        let directory = try LocalDataDirectory(dataDirectory, create: true, option: "--data")

        var blobCount = 0
        var entries: [(key: String, body: String)]?
        var first = true
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK, let header else { throw failure(archive, path) }
            let name = archive_entry_pathname(header).map { String(cString: $0) } ?? ""
            if first {
                guard name == Bundle.marker, try readAll(archive, limit: 4096, path: path) == Array(Bundle.markerContent.utf8) else {
                    throw BundleError("\(path) is not a netcache bundle")
                }
                first = false
                continue
            }
            guard entries == nil else { throw BundleError("\(path): \(name) after \(Bundle.entries)") }
            if name == Bundle.entries {
                entries = try parseEntries(try readAll(archive, limit: entriesLimit, path: path), path: path)
            } else if name.hasPrefix(Bundle.blobPrefix), case let sha512 = String(name.dropFirst(Bundle.blobPrefix.count)), isSHA512Hex(sha512) {
                do {
                    try await directory.storeBlob(sha512.lowercased()) { sink in try readChunks(archive, path: path, sink) }
                } catch let mismatch as BlobMismatch {
                    throw BundleError("\(path): \(name): \(mismatch); nothing of the bundle's entries was filed")
                }
                blobCount += 1
                progress(blobCount, Int(archive_filter_bytes(archive, -1)))
            } else {
                throw BundleError("\(path): unexpected member \(name)")
            }
        }
        guard let entries else { throw BundleError("\(path): no \(Bundle.entries): the bundle is cut") }
        let refusals = try vetting?(entries) ?? [:]
        var added = 0
        for (index, (key, body)) in entries.enumerated() where refusals[index] == nil {
            if try await directory.file(key: key, body: body) { added += 1 }
        }
        let refused = refusals.keys.sorted().map { (key: entries[$0].key, reason: refusals[$0] ?? "") }
        return Summary(blobs: blobCount, entries: entries.count - refused.count, newEntries: added, refused: refused)
    }

    private static func parseEntries(_ bytes: [UInt8], path: String) throws -> [(key: String, body: String)] {
        try bytes.split(separator: UInt8(ascii: "\n")).enumerated().map { number, line in
            guard case .object(let object)? = try? JSONValue(parsing: Array(line)), let key = object["key"]?.stringValue,
                let body = object["body"]?.stringValue, !key.isEmpty
            else { throw BundleError("\(path): \(Bundle.entries) line \(number + 1) is not {\"key\", \"body\"}") }
            do {
                _ = try ShadirEntry(validatingBody: Array(body.utf8))
            } catch {
                throw BundleError("\(path): \(Bundle.entries) line \(number + 1): \(error)")
            }
            return (key, body)
        }
    }

    private static func readChunks(_ archive: OpaquePointer, path: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if count == 0 { return }
            guard count > 0 else { throw failure(archive, path) }
            try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }

    private static func readAll(_ archive: OpaquePointer, limit: Int, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try readChunks(archive, path: path) { chunk in
            guard bytes.count + chunk.count <= limit else { throw BundleError("\(path): a member is larger than a bundle's") }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    private static func failure(_ archive: OpaquePointer, _ path: String) -> BundleError {
        BundleError("cannot read \(path): \(archive_error_string(archive).map { String(cString: $0) } ?? "libarchive failed")")
    }
}
