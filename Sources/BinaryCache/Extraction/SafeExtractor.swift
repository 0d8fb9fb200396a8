import CArchive
import Foundation
import NetcacheClient

/// Expands a release archive (gzip or zstd tar, detected) below a staging directory,
/// refusing anything a hostile archive could use to write elsewhere or to plant
/// privileges: absolute names, `..`, entries outside `<top>/`, writes through a symlink,
/// hard links out of the tree, two entries for one path, devices, FIFOs, sockets, setuid
/// and setgid bits. Symlink *targets* may be absolute: release trees have them.
///
/// libarchive only reads; `TreeWriter` writes, relative to the staging directory's
/// descriptor, so the process's working directory plays no part. The only symlinks on the
/// way are the archive's own, tracked here. Names must be UTF-8, as `publish` writes them,
/// so that what is checked is what is written. The `budget` bounds what the archive may
/// take while it is expanded.
struct SafeExtractor {
    let staging: StagingDirectory
    let top: String
    /// Who gets the files when extracting as root; `nil` keeps the extracting user.
    let owner: (uid: uid_t, gid: gid_t)?
    var budget: ExtractionBudget
    let durability: Durability
    /// Told of the entries extracted so far, for a progress display.
    var onEntry: ((Int) -> Void)?

    /// `next` returns the archive's bytes chunk by chunk, `nil` at the end, and throws when
    /// the stream broke; its error ends the extraction. When this returns, every entry is
    /// written but directories are still private to this user and nothing is durable yet:
    /// the caller may still rewrite the tree (relocation), then `finish`es the writer, which
    /// gives directories their modes and times and makes the tree durable, or `cancel`s it.
    mutating func extract(from next: @escaping () throws -> [UInt8]?) throws -> TreeWriter {
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
        let writer = TreeWriter(base: staging.descriptor, owner: owner, durability: durability)
        do {
            try extractEntries(from: reader, source: source, into: writer)
        } catch {
            writer.cancel()
            throw error
        }
        return writer
    }

    private mutating func extractEntries(from reader: OpaquePointer, source: ChunkSource, into writer: TreeWriter) throws {
        var seen = Set<String>()
        var symlinks = Set<String>()
        var directories: Set<String> = [""]
        var entry: OpaquePointer?
        while true {
            try Interruption.check()
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw source.failure ?? ArchiveError("corrupt archive", archive: reader)
            }
            let name = try checkedName(try utf8(archive_entry_pathname(entry)))
            try checkType(entry, name: name)
            try checkNotThroughSymlink(name, symlinks: symlinks)
            if symlinks.contains(name) { throw ArchiveError("refusing to replace symlink \(name) in archive") }
            guard seen.insert(name).inserted else { throw ArchiveError("refusing a second entry for \(name) in archive") }
            let path = pathComponents(name)
            guard directories.contains(path.dropLast().joined(separator: "/")) else {
                throw ArchiveError("refusing \(name): its directory comes later in the archive, or not at all")
            }
            try budget.admitEntry(name)
            onEntry?(seen.count)
            let mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))
            let mode = mode_t(archive_entry_perm(entry)) & 0o1777
            if let target = archive_entry_hardlink(entry) {
                let checked = try checkedName(try utf8(target), linkOf: name)
                try checkNotThroughSymlink(checked, symlinks: symlinks)
                try writer.makeHardLink(path, to: pathComponents(checked))
                continue
            }
            switch archive_entry_filetype(entry) {
            case 0o040000:
                try writer.makeDirectory(path, mode: mode, mtime: mtime)
                directories.insert(name)
            case 0o120000:
                guard let target = archive_entry_symlink(entry) else { throw ArchiveError("refusing symlink \(name) without a target in archive") }
                try writer.makeSymlink(path, target: String(cString: target), mtime: mtime)
                symlinks.insert(name)
            default:
                var file = try writer.createFile(path, mode: mode)
                do {
                    try copyData(from: reader, to: &file, writer: writer, name: name, source: source)
                } catch {
                    writer.abandon(file)
                    throw error
                }
                try writer.finishFile(file, size: Int(archive_entry_size(entry)), mode: mode, mtime: mtime)
            }
        }
    }

    /// A relative name inside `<top>/`, without `.` or `..` components.
    private func checkedName(_ raw: String, linkOf owner: String? = nil) throws -> String {
        let what = owner.map { "hard link \($0) -> \(raw)" } ?? raw
        guard !isAbsolutePath(raw) else { throw ArchiveError("refusing absolute path in archive: \(what)") }
        // As bytes: a '/' that Swift sees inside a grapheme cluster is still a separator.
        var components = pathComponents(raw).map { Array($0.utf8) }
        while components.first == [0x2E] { components.removeFirst() }
        guard !components.contains([0x2E, 0x2E]) else { throw ArchiveError("refusing '..' in archive: \(what)") }
        guard !components.contains([0x2E]), components.first == Array(top.utf8) else {
            throw ArchiveError("refusing entry outside \(top)/ in archive: \(what)")
        }
        return components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
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
        for component in pathComponents(name) {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if symlinks.contains(prefix) {
                throw ArchiveError("refusing to write through symlink \(prefix) in archive: \(name)")
            }
        }
    }

    private mutating func copyData(from reader: OpaquePointer, to file: inout TreeWriter.OpenFile, writer: TreeWriter, name: String, source: ChunkSource) throws {
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(reader, &block, &size, &offset)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK else { throw source.failure ?? ArchiveError("cannot read \(name)", archive: reader) }
            guard size > 0, let block else { continue }
            try Interruption.check()
            try budget.admit(bytes: size, of: name, on: staging.descriptor)
            try writer.write(UnsafeRawBufferPointer(start: block, count: size), at: Int(offset), to: &file)
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
