import CArchive
import Foundation

/// libarchive writing an uncompressed pax tar to a callback, without the padding of the
/// last block (so that compressors see exactly the tar).
final class TarStreamWriter {
    private let archive: OpaquePointer
    private let output: ArchiveOutput
    private var failure: (any Error)? { output.failure }

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let archive = archive_write_new() else { throw ArchiveError("cannot allocate an archive writer") }
        self.archive = archive
        output = ArchiveOutput(sink: sink)
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
            archive_write_add_filter_none(archive) == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 64 << 10) == ARCHIVE_OK,
            archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK,
            output.open(archive) == ARCHIVE_OK
        else { throw ArchiveError("cannot open the archive writer", archive: archive) }
    }

    deinit {
        archive_write_free(archive)
    }

    func write(_ entry: ArchiveEntry) throws {
        let pathname = archive_entry_pathname(entry.pointer).map { String(cString: $0) } ?? "?"
        guard archive_write_header(archive, entry.pointer) == ARCHIVE_OK else {
            throw failure ?? ArchiveError("cannot archive \(pathname)", archive: archive)
        }
    }

    /// Streams an open file's bytes; fails if the file changed size while being packed.
    func writeContents(of descriptor: Int32, path: String, expectedSize: Int, buffer: inout [UInt8]) throws -> Int {
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { throw ArchiveError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, count) }
            if written < 0 { throw failure ?? ArchiveError("cannot archive \(path)", archive: archive) }
            total += count
        }
        guard total == expectedSize else { throw ArchiveError("\(path) changed while being archived") }
        return total
    }

    /// Writes part of the current entry's content from memory.
    func writeData(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard bytes.count > 0 else { return }
        let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
        if written != bytes.count { throw failure ?? ArchiveError("cannot archive \(path)", archive: archive) }
    }

    func close() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure ?? ArchiveError("cannot finish the archive", archive: archive) }
    }
}
