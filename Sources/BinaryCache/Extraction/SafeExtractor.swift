import CArchive
import Foundation

/// Expands a release archive (gzip or zstd tar, detected) below a staging directory,
/// refusing anything a hostile archive could use to write elsewhere or to plant
/// privileges: absolute names, `..`, entries outside `<top>/`, writes through a symlink,
/// hard links out of the tree, devices, FIFOs, sockets, setuid and setgid bits.
/// Symlink *targets* may be absolute: release trees have them.
///
/// The staging directory is new and private, and entries are written relative to it (it is
/// the working directory meanwhile), so the only symlinks on their way are the archive's
/// own: tracking them here replaces libarchive's `SECURE_SYMLINKS`, which re-opens every
/// component of every path (about twelve `openat` calls per entry, most of an install's
/// time). Names must be UTF-8, as `publish` writes them, so that what is checked is what
/// is written.
struct SafeExtractor {
    let staging: StagingDirectory
    let top: String
    /// Who gets the files when extracting as root; `nil` keeps the extracting user.
    let owner: (uid: uid_t, gid: gid_t)?

    struct Report {
        var entries = 0
        var bytes = 0
    }

    /// `next` returns the archive's bytes chunk by chunk, `nil` at the end, and throws when
    /// the stream broke; its error ends the extraction.
    func extract(from next: @escaping () throws -> [UInt8]?) throws -> Report {
        // libarchive applies directory modes and times when the writer closes or is freed:
        // that too must happen inside the staging directory.
        try staging.withWorkingDirectory { try extractHere(from: next) }
    }

    private func extractHere(from next: @escaping () throws -> [UInt8]?) throws -> Report {
        let source = ChunkSource(next: next)
        guard let reader = archive_read_new() else { throw ArchiveError("cannot allocate an archive reader") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_gzip(reader)
        archive_read_support_filter_zstd(reader)
        archive_read_support_format_tar(reader)
        let context = Unmanaged.passUnretained(source).toOpaque()
        guard archive_read_open(reader, context, nil, readChunk, nil) == ARCHIVE_OK else {
            throw source.failure ?? ArchiveError("cannot read the archive", archive: reader)
        }
        guard let writer = archive_write_disk_new() else { throw ArchiveError("cannot allocate a disk writer") }
        defer { archive_write_free(writer) }
        var flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if owner != nil { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(writer, flags)
        let (uid, gid) = owner ?? (getuid(), getgid())

        var report = Report()
        var symlinks = Set<String>()
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw source.failure ?? ArchiveError("corrupt archive", archive: reader)
            }
            let name = try checkedName(try utf8(archive_entry_pathname(entry)))
            try checkType(entry, name: name)
            try checkNotThroughSymlink(name, symlinks: symlinks)
            if symlinks.contains(name) { throw ArchiveError("refusing to replace symlink \(name) in archive") }
            if let target = archive_entry_hardlink(entry) {
                let checked = try checkedName(try utf8(target), linkOf: name)
                try checkNotThroughSymlink(checked, symlinks: symlinks)
                archive_entry_set_hardlink(entry, checked)
            }
            if archive_entry_filetype(entry) == UInt32(0o120000) { symlinks.insert(name) }
            archive_entry_set_pathname(entry, name)
            archive_entry_set_uid(entry, la_int64_t(uid))
            archive_entry_set_gid(entry, la_int64_t(gid))
            guard archive_write_header(writer, entry) >= ARCHIVE_WARN else {
                throw ArchiveError("cannot extract \(name)", archive: writer)
            }
            report.bytes += try copyData(from: reader, to: writer, name: name, source: source)
            guard archive_write_finish_entry(writer) >= ARCHIVE_WARN else {
                throw ArchiveError("cannot extract \(name)", archive: writer)
            }
            report.entries += 1
        }
        guard archive_write_close(writer) == ARCHIVE_OK else { throw ArchiveError("cannot finish extraction", archive: writer) }
        return report
    }

    /// A relative name inside `<top>/`, without `.` or `..` components.
    private func checkedName(_ raw: String, linkOf owner: String? = nil) throws -> String {
        let what = owner.map { "hard link \($0) -> \(raw)" } ?? raw
        guard !raw.hasPrefix("/") else { throw ArchiveError("refusing absolute path in archive: \(what)") }
        var components = raw.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        while components.first == "." { components.removeFirst() }
        guard !components.contains("..") else { throw ArchiveError("refusing '..' in archive: \(what)") }
        guard !components.contains("."), components.first == top else {
            throw ArchiveError("refusing entry outside \(top)/ in archive: \(what)")
        }
        return components.joined(separator: "/")
    }

    private func utf8(_ raw: UnsafePointer<CChar>?) throws -> String {
        guard let raw else { throw ArchiveError("refusing an entry without a name in archive") }
        guard let name = String(validatingCString: raw) else {
            throw ArchiveError("refusing a name that is not UTF-8 in archive: \(String(cString: raw))")
        }
        return name
    }

    private func checkType(_ entry: OpaquePointer, name: String) throws {
        let type = archive_entry_filetype(entry)
        let isHardLink = archive_entry_hardlink(entry) != nil
        if name == top, type != 0o040000 || isHardLink {
            throw ArchiveError("refusing \(top) that is not a directory in archive")
        }
        switch type {
        case 0o100000, 0o040000, 0o120000: break
        case 0 where isHardLink: break
        case 0o010000: throw ArchiveError("refusing FIFO in archive: \(name)")
        case 0o020000, 0o060000: throw ArchiveError("refusing device file in archive: \(name)")
        default: throw ArchiveError("refusing special file in archive: \(name)")
        }
        if archive_entry_perm(entry) & 0o6000 != 0 {
            throw ArchiveError("refusing setuid/setgid file in archive: \(name)")
        }
    }

    private func checkNotThroughSymlink(_ name: String, symlinks: Set<String>) throws {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if symlinks.contains(prefix) {
                throw ArchiveError("refusing to write through symlink \(prefix) in archive: \(name)")
            }
        }
    }

    private func copyData(from reader: OpaquePointer, to writer: OpaquePointer, name: String, source: ChunkSource) throws -> Int {
        var total = 0
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(reader, &block, &size, &offset)
            if status == ARCHIVE_EOF { return total }
            guard status >= ARCHIVE_WARN else { throw source.failure ?? ArchiveError("cannot read \(name)", archive: reader) }
            guard archive_write_data_block(writer, block, size, offset) >= ARCHIVE_WARN else {
                throw ArchiveError("cannot write \(name)", archive: writer)
            }
            total += size
        }
    }
}

/// Feeds libarchive from a chunk producer. libarchive reads the block it was handed until
/// the next callback, so each chunk is copied into a buffer this object owns.
private final class ChunkSource {
    let next: () throws -> [UInt8]?
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    var failure: (any Error)?

    init(next: @escaping () throws -> [UInt8]?) {
        self.next = next
    }

    deinit {
        buffer.deallocate()
    }

    func hold(_ chunk: [UInt8]) -> UnsafeRawPointer {
        if chunk.count > buffer.count {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk.count, alignment: 16)
        }
        chunk.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return UnsafeRawPointer(buffer.baseAddress!)
    }
}

private func readChunk(_: OpaquePointer?, context: UnsafeMutableRawPointer?, buffer: UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t {
    let source = Unmanaged<ChunkSource>.fromOpaque(context!).takeUnretainedValue()
    do {
        guard let chunk = try source.next() else { return 0 }
        buffer?.pointee = source.hold(chunk)
        return chunk.count
    } catch {
        source.failure = error
        return -1
    }
}
