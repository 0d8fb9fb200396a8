import CArchive
import Foundation

/// Legacy gzip through libarchive's gzip filter (raw format: the tar stream is the one
/// "file"), on its own thread behind a bounded queue so that it runs beside zstd.
///
/// Level 1 and no timestamp: unmodified SlapOS nodes read it, and the same tree gives the
/// same bytes.
final class GzipCompressor: @unchecked Sendable {
    private let queue = ByteQueue(capacity: 4)
    private let done = DispatchSemaphore(value: 0)
    private var failure: (any Error)?
    /// Held by the compressor, not by `run`: freeing a writer that a failure left open
    /// still flushes through it.
    private let output: ArchiveOutput
    private var pending: [UInt8] = []

    init(level: Int = 1, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        output = ArchiveOutput(sink: sink)
        let thread = Thread { [self] in
            do {
                try run(level: level)
            } catch {
                failure = error
                queue.abandon(error)
            }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues bytes; copies them in 512 KiB batches so that the thread hop stays cheap.
    func compress(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        if pending.count >= 512 << 10 {
            try flushPending()
        }
    }

    func finish() throws {
        try flushPending()
        queue.finish()
        done.wait()
        if let failure { throw failure }
    }

    /// Stops the thread after a failure elsewhere.
    func cancel() {
        queue.finish(error: ArchiveError("cancelled"))
        done.wait()
    }

    private func flushPending() throws {
        guard !pending.isEmpty else { return }
        let chunk = pending
        pending.removeAll(keepingCapacity: true)
        if !queue.push(chunk) {
            done.wait()
            throw failure ?? ArchiveError("gzip: stopped")
        }
    }

    private func run(level: Int) throws {
        guard let archive = archive_write_new() else { throw ArchiveError("gzip: cannot allocate a writer") }
        defer { archive_write_free(archive) }
        guard archive_write_set_format_raw(archive) == ARCHIVE_OK,
            archive_write_add_filter_gzip(archive) == ARCHIVE_OK,
            archive_write_set_options(archive, "gzip:compression-level=\(level),gzip:!timestamp") == ARCHIVE_OK,
            archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK,
            output.open(archive) == ARCHIVE_OK
        else { throw ArchiveError("gzip: cannot open the writer", archive: archive) }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_filetype(entry, 0o100000)
        archive_entry_set_pathname(entry, "data")
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw ArchiveError("gzip", archive: archive) }
        while let chunk = try queue.pop() {
            let written = chunk.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
            if written < 0 { throw output.failure ?? ArchiveError("gzip", archive: archive) }
        }
        guard archive_write_close(archive) == ARCHIVE_OK else { throw output.failure ?? ArchiveError("gzip", archive: archive) }
    }
}
