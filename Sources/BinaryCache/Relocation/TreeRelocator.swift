import CLinux
import Foundation

/// Moves a tree built under one software_root to another: rewrites, in staging, before the
/// directories get their final modes and before the tree moves into place, what the
/// entry's manifest lists. Every file is reached relative to its directory's descriptor,
/// through components checked not to leave the tree and without following symlinks, and
/// patched in place at its listed offsets (a hard-linked file once, for all its names),
/// keeping its size, mode and times.
///
/// What the manifest claims is checked against the tree: a path that is not there as the
/// kind listed, or an offset that does not hold the old root where a path starts, refuses
/// the entry (`RelocationRefused`); only the local file system's failures are errors of
/// their own.
struct TreeRelocator {
    let rewrite: RootRewrite
    /// Whether each patched file is synced: with `Durability.filesystem`, the tree's
    /// `finish` syncs the whole file system instead.
    let syncFiles: Bool

    func apply(_ manifest: ManifestDownload, staging: Int32, top: String) throws {
        let cursor = DirectoryCursor(base: staging)
        try manifest.forEachItem { item in
            try Interruption.check()
            let components = [top] + item.path.components
            let directory: Int32
            do {
                directory = try cursor.open(components.dropLast()[...])
            } catch let missing as DirectoryCursor.NotADirectory {
                throw RelocationRefused("relocation manifest lists \(item.path), which the archive does not hold: \(missing)")
            }
            let name = item.path.components[item.path.components.count - 1]
            if item.kind == .symlink {
                try retarget(name, in: directory, path: item.path)
            } else {
                try patch(item.offsets, of: name, in: directory, path: item.path, bytecode: item.kind == .bytecode)
            }
        }
    }

    /// Rewrites each listed occurrence in place, after checking it is one.
    private func patch(_ offsets: [Int], of name: String, in directory: Int32, path: TreePath, bytecode: Bool) throws {
        try withWritable(name, in: directory, path: path) { descriptor, size in
            let before = PathStart.lookBehind + 1
            var window = [UInt8](repeating: 0, count: before + rewrite.old.count)
            var end = 0
            for offset in offsets {
                guard offset >= end, offset <= size - rewrite.old.count else {
                    throw RelocationRefused("relocation manifest: \(path) has no room for software_root at byte \(offset) (\(size) bytes)")
                }
                let from = max(0, offset - before)
                let count = offset + rewrite.old.count - from
                try readFully(descriptor, into: &window, count: count, at: from, path: path)
                guard rewrite.isOccurrence(in: window[..<count], at: offset - from, startsFile: from == 0, bytecode: bytecode) else {
                    throw RelocationRefused("relocation manifest: \(path) holds no software_root starting a path at byte \(offset)")
                }
                let written = rewrite.replacement.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, off_t(offset)) }
                guard written == rewrite.replacement.count else { throw failure("write", path) }
                end = offset + rewrite.old.count
            }
        }
    }

    private func readFully(_ descriptor: Int32, into buffer: inout [UInt8], count: Int, at offset: Int, path: TreePath) throws {
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw got == 0 ? RelocationRefused("relocation manifest: \(path) is shorter than it says") : failure("read", path) }
            done += got
        }
    }

    /// Opens a regular file for writing (made writable for the while when its mode says
    /// otherwise), then puts its mode and times back and syncs it.
    private func withWritable(_ name: String, in directory: Int32, path: TreePath, _ body: (Int32, Int) throws -> Void) throws {
        var before = stat()
        guard fstatat(directory, name, &before, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { throw RelocationRefused("relocation manifest lists \(path), which the archive does not hold") }
            throw failure("stat", path)
        }
        guard before.st_mode & S_IFMT == S_IFREG else {
            throw RelocationRefused("relocation manifest lists \(path) as a file; the archive holds another kind of entry there")
        }
        // Read and written by its owner for the while: a non-root install cannot otherwise.
        let madeWritable = before.st_mode & 0o600 != 0o600
        if madeWritable, fchmodat(directory, name, (before.st_mode & 0o7777) | 0o600, 0) != 0 { throw failure("open", path) }
        let descriptor = openat(directory, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        try body(descriptor, Int(before.st_size))
        if madeWritable, fchmod(descriptor, before.st_mode & 0o7777) != 0 { throw failure("chmod", path) }
        var times = [before.st_atim, before.st_mtim]
        guard futimens(descriptor, &times) == 0 else { throw failure("set the times of", path) }
        if syncFiles, fsync(descriptor) != 0 { throw failure("sync", path) }
    }

    private func retarget(_ name: String, in directory: Int32, path: TreePath) throws {
        var before = stat()
        guard fstatat(directory, name, &before, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { throw RelocationRefused("relocation manifest lists \(path), which the archive does not hold") }
            throw failure("stat", path)
        }
        guard before.st_mode & S_IFMT == S_IFLNK else {
            throw RelocationRefused("relocation manifest lists \(path) as a symlink; the archive holds another kind of entry there")
        }
        var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = target.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlinkat(directory, name, $0.baseAddress!, $0.count - 1) }
        }
        guard length >= 0 else { throw failure("read link", path) }
        target.removeSubrange(length...)
        guard let retargeted = rewritten(target) else {
            throw RelocationRefused("relocation manifest lists symlink \(path), whose target holds no software_root starting a path")
        }
        guard unlinkat(directory, name, 0) == 0, symlinkat(String(decoding: retargeted, as: UTF8.self), directory, name) == 0 else {
            throw failure("rewrite link", path)
        }
        if geteuid() == 0, fchownat(directory, name, before.st_uid, before.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw failure("chown", path) }
        var times = [before.st_atim, before.st_mtim]
        guard utimensat(directory, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("set the times of", path) }
    }

    /// The target with each occurrence rewritten; `nil` when it holds none.
    private func rewritten(_ target: [UInt8]) -> [UInt8]? {
        let offsets = rewrite.occurrences(inTarget: target)
        guard !offsets.isEmpty else { return nil }
        var result = target
        for offset in offsets { result.replaceSubrange(offset..<(offset + rewrite.old.count), with: rewrite.replacement) }
        return result
    }

    private func failure(_ action: String, _ path: TreePath) -> ArchiveError {
        ArchiveError("cannot \(action) \(path) to relocate it: \(String(cString: strerror(errno)))")
    }
}
