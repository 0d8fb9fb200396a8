import CLinux
import Foundation
import NetcacheClient

/// An entry's relocation manifest, downloaded into an unnamed file in software_root before
/// the archive: no larger than its entry signed, its SHA-512 checked, and every line
/// checked (`validate`) before a byte of the archive is fetched; then read line by line.
final class ManifestDownload {
    private let descriptor: Int32

    init(_ blob: RelocationRecord.ManifestBlob, from shacache: ShacacheClient, in directory: Int32, directoryPath: String) throws {
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
