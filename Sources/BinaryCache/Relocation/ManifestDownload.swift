import CLinux
import Foundation
import NetcacheClient

/// An entry's relocation manifest, downloaded into an unnamed file in software_root before
/// the archive: no larger than its entry signed, its SHA-512 checked, and every line
/// checked (`validate`) before a byte of the archive is fetched; then read line by line.
final class ManifestDownload {
    private let descriptor: Int32
    let blob: RelocationRecord.ManifestBlob

    init(_ blob: RelocationRecord.ManifestBlob, from shacache: ShacacheClient, in directory: Int32, directoryPath: String) throws {
        self.blob = blob
        descriptor = netcache_open_unnamed_at(directory)
        guard descriptor >= 0 else {
            throw ArchiveError("cannot create a spool file in \(directoryPath): \(String(cString: strerror(errno)))")
        }
        var received = 0
        do {
            try shacache.download(blob.sha512) { bytes in
                received += bytes.count
                guard received <= blob.size else {
                    throw RelocationRefused("relocation manifest \(blob.sha512.prefix(12)): more than the \(blob.size) bytes its entry signed")
                }
                try Self.write(bytes, to: descriptor, offset: received - bytes.count, directoryPath: directoryPath)
            }
            guard received == blob.size else {
                throw RelocationRefused("relocation manifest \(blob.sha512.prefix(12)): \(received) bytes, its entry signed \(blob.size)")
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        close(descriptor)
    }

    /// Reads every line once, so that a manifest that names anything outside the tree, or
    /// is not one, is refused before the archive is fetched.
    func validate() throws {
        try forEachItem { _ in }
    }

    /// Each item in order; throws `RelocationRefused`, naming the line, for one that is
    /// not valid.
    func forEachItem(_ body: (RelocationManifest.Item) throws -> Void) throws {
        var reader = LineReader(descriptor: descriptor, limit: RelocationManifest.lineLimit)
        var number = 0
        while let line = try reader.next() {
            number += 1
            let item: RelocationManifest.Item
            do {
                item = try RelocationManifest.item(parsing: line)
            } catch {
                throw RelocationRefused("relocation manifest, line \(number): \(error)")
            }
            try body(item)
        }
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, offset: Int, directoryPath: String) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw ArchiveError("cannot write a spool file in \(directoryPath): \(String(cString: strerror(written == 0 ? ENOSPC : errno)))")
            }
            done += written
        }
    }
}

/// Lines of a file read from its start through a descriptor, without their newline; a
/// line longer than `limit` is refused rather than read into memory.
struct LineReader {
    let descriptor: Int32
    let limit: Int
    private var buffer: [UInt8] = []
    /// Where the next line starts in `buffer`, and how much of it is known to hold no newline.
    private var start = 0
    private var searched = 0
    private var position = 0
    private var atEnd = false

    init(descriptor: Int32, limit: Int) {
        self.descriptor = descriptor
        self.limit = limit
    }

    mutating func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[(start + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                searched = 0
                return line
            }
            searched = buffer.count - start
            guard searched <= limit else { throw RelocationRefused("relocation manifest: a line longer than \(limit >> 20) MiB") }
            if atEnd {
                guard searched == 0 else { throw RelocationRefused("relocation manifest: its last line has no newline") }
                return nil
            }
            buffer.removeSubrange(..<start)
            start = 0
            let count = try read(64 << 10)
            if count == 0 { atEnd = true }
        }
    }

    /// Appends up to `count` bytes; returns how many came.
    private mutating func read(_ count: Int) throws -> Int {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        while true {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + old, count, off_t(position)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                buffer.removeSubrange(old...)
                throw ArchiveError("cannot read the relocation manifest: \(String(cString: strerror(errno)))")
            }
            buffer.removeSubrange((old + got)...)
            position += got
            return got
        }
    }
}
