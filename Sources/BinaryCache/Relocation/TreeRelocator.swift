import CLinux
import Foundation

/// Moves a tree built under one software_root to another: rewrites, in staging and before
/// the tree moves into place, what the entry's relocation manifest lists. Every file is
/// reached relative to its directory's descriptor without following symlinks, patched in
/// place (a hard-linked file once, for all its names), synced, and given back its times.
struct TreeRelocator {
    let manifest: RelocationManifest
    let old: [UInt8]
    let new: [UInt8]

    /// Text files larger than this are not rewritten in memory.
    static let textLimit = 256 << 20

    init(manifest: RelocationManifest, to softwareRoot: String) {
        self.manifest = manifest
        old = Array((manifest.from + "/").utf8)
        new = Array((softwareRoot + "/").utf8)
    }

    /// Applies the manifest to the tree `top` in the staging directory.
    func apply(staging: Int32, top: String) throws {
        precondition(new.count <= old.count, "relocation to a longer path")
        let cursor = DirectoryCursor(base: staging)
        func parent(of relative: String) throws -> (Int32, String) {
            let components = ([top] + relative.split(separator: "/").map(String.init))
            return (try cursor.open(components.dropLast()[...]), components.last!)
        }
        for relative in manifest.text {
            let (directory, name) = try parent(of: relative)
            try rewrite(name, in: directory, path: relative) { bytes in replacingAll(in: bytes) }
        }
        for (relative, offsets) in manifest.elf.merging(manifest.binary, uniquingKeysWith: +) {
            let (directory, name) = try parent(of: relative)
            try patchStrings(at: offsets.sorted(), of: name, in: directory, path: relative)
        }
        for relative in manifest.symlinks {
            let (directory, name) = try parent(of: relative)
            try retarget(name, in: directory, path: relative)
        }
        for relative in manifest.bytecode {
            let (directory, name) = try parent(of: relative)
            guard unlinkat(directory, name, 0) == 0 || errno == ENOENT else { throw failure("remove", relative) }
        }
    }

    private func replacingAll(in bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == old[0], bytes.count - index >= old.count, bytes[index..<(index + old.count)].elementsEqual(old) {
                result.append(contentsOf: new)
                index += old.count
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// Each NUL-terminated string holding the old root, rewritten and padded with NULs to
    /// its old length.
    private func patchStrings(at offsets: [Int], of name: String, in directory: Int32, path: String) throws {
        try withWritable(name, in: directory, path: path) { descriptor in
            var done = 0
            var buffer = [UInt8](repeating: 0, count: 4096)
            for offset in offsets where offset >= done {
                let count = pread(descriptor, &buffer, buffer.count, off_t(offset))
                guard count > 0, let end = buffer[..<count].firstIndex(of: 0), end >= old.count, buffer[..<old.count].elementsEqual(old) else {
                    throw ArchiveError("\(path): no string of software_root at byte \(offset), as the entry says")
                }
                var string = replacingAll(in: Array(buffer[..<end]))
                string += [UInt8](repeating: 0, count: end - string.count)
                guard pwrite(descriptor, string, string.count, off_t(offset)) == string.count else { throw failure("write", path) }
                done = offset + end
            }
        }
    }

    private func rewrite(_ name: String, in directory: Int32, path: String, _ transform: ([UInt8]) -> [UInt8]) throws {
        try withWritable(name, in: directory, path: path) { descriptor in
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw failure("stat", path) }
            guard Int(status.st_size) <= Self.textLimit else { throw ArchiveError("\(path): too large to relocate") }
            var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
            var read = 0
            while read < bytes.count {
                let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + read, $0.count - read, off_t(read)) }
                guard count > 0 else { throw failure("read", path) }
                read += count
            }
            let rewritten = transform(bytes)
            guard pwrite(descriptor, rewritten, rewritten.count, 0) == rewritten.count, ftruncate(descriptor, off_t(rewritten.count)) == 0 else {
                throw failure("write", path)
            }
        }
    }

    /// Opens a regular file for writing (made writable for the while when its mode says
    /// otherwise), then syncs it and puts its mode and times back.
    private func withWritable(_ name: String, in directory: Int32, path: String, _ body: (Int32) throws -> Void) throws {
        var before = stat()
        guard fstatat(directory, name, &before, AT_SYMLINK_NOFOLLOW) == 0, before.st_mode & S_IFMT == S_IFREG else {
            throw ArchiveError("\(path): not the regular file the entry lists")
        }
        let madeWritable = before.st_mode & 0o200 == 0
        if madeWritable, fchmodat(directory, name, (before.st_mode & 0o7777) | 0o200, 0) != 0 { throw failure("open", path) }
        let descriptor = openat(directory, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        try body(descriptor)
        if madeWritable, fchmod(descriptor, before.st_mode & 0o7777) != 0 { throw failure("chmod", path) }
        var times = [before.st_atim, before.st_mtim]
        guard futimens(descriptor, &times) == 0, fsync(descriptor) == 0 else { throw failure("sync", path) }
    }

    private func retarget(_ name: String, in directory: Int32, path: String) throws {
        var before = stat()
        guard fstatat(directory, name, &before, AT_SYMLINK_NOFOLLOW) == 0, before.st_mode & S_IFMT == S_IFLNK else {
            throw ArchiveError("\(path): not the symlink the entry lists")
        }
        var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = target.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlinkat(directory, name, $0.baseAddress!, $0.count - 1) }
        }
        guard length >= 0 else { throw failure("read link", path) }
        let retargeted = String(decoding: replacingAll(in: Array(target[..<length])), as: UTF8.self)
        guard unlinkat(directory, name, 0) == 0, symlinkat(retargeted, directory, name) == 0 else { throw failure("rewrite link", path) }
        if geteuid() == 0, fchownat(directory, name, before.st_uid, before.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw failure("chown", path) }
        var times = [before.st_atim, before.st_mtim]
        guard utimensat(directory, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("set times of", path) }
        let opened = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard opened >= 0 else { throw failure("open the directory of", path) }
        defer { close(opened) }
        guard fsync(opened) == 0 else { throw failure("sync the directory of", path) }
    }

    private func failure(_ action: String, _ path: String) -> ArchiveError {
        ArchiveError("cannot \(action) \(path) to relocate it: \(String(cString: strerror(errno)))")
    }
}
