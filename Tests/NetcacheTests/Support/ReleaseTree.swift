import Foundation
import XCTest

/// A release tree on disk, and its comparison entry by entry.
enum ReleaseTree {
    struct Node: Equatable, CustomStringConvertible {
        let path: String
        let type: String
        let mode: UInt16
        let mtime: Int
        let content: Data?
        let linkTarget: String?

        var description: String { "\(type) \(path) \(String(mode, radix: 8)) \(mtime) \(linkTarget ?? "")" }
    }

    /// A tree with what releases hold: files, an executable, empty directories, relative
    /// and absolute symlinks, hard links, and a `.netrc` that must never be published.
    static func make(at path: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path + "/parts/empty", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path + "/lib/deep/er", withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho release\n".utf8).write(to: URL(fileURLWithPath: path + "/bin/run"))
        chmod(path + "/bin/run", 0o755)
        try Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path + "/lib/deep/er/data.bin"))
        chmod(path + "/lib/deep/er/data.bin", 0o640)
        try Data("config\n".utf8).write(to: URL(fileURLWithPath: path + "/buildout.cfg"))
        try Data().write(to: URL(fileURLWithPath: path + "/lib/empty-file"))
        try fm.createSymbolicLink(atPath: path + "/bin/relative", withDestinationPath: "run")
        try fm.createSymbolicLink(atPath: path + "/bin/absolute", withDestinationPath: "/etc/hostname")
        try fm.createSymbolicLink(atPath: path + "/lib/dangling", withDestinationPath: "../nowhere")
        link(path + "/lib/deep/er/data.bin", path + "/lib/hardlink.bin")
        try Data("machine example.org login me password secret\n".utf8).write(to: URL(fileURLWithPath: path + "/.netrc"))
        try Data("machine example.org login me password secret\n".utf8).write(to: URL(fileURLWithPath: path + "/parts/.netrc"))
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 123), timespec(tv_sec: 1_600_000_000, tv_nsec: 123)]
        for node in try nodes(at: path, includeNetrc: true).reversed() {
            utimensat(AT_FDCWD, path + "/" + node.path, &times, AT_SYMLINK_NOFOLLOW)
        }
        utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// A file of incompressible bytes, for releases that take a while to pack or unpack.
    static func addNoise(at path: String, megabytes: Int) throws {
        let result = try NetcacheTests.run(URL(fileURLWithPath: "/bin/dd"), ["if=/dev/urandom", "of=\(path)", "bs=1M", "count=\(megabytes)", "status=none"])
        guard result.status == 0 else { throw TestFailure("dd: \(result.stderr)") }
    }

    /// Every entry below `path`, sorted, with what a comparison must look at.
    static func nodes(at path: String, includeNetrc: Bool = false) throws -> [Node] {
        var result: [Node] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            if !includeNetrc && (relative as NSString).lastPathComponent == ".netrc" { continue }
            let full = path + "/" + relative
            var status = stat()
            guard lstat(full, &status) == 0 else { throw TestFailure("lstat \(full)") }
            let kind = status.st_mode & S_IFMT
            let type = kind == S_IFDIR ? "dir" : kind == S_IFLNK ? "symlink" : kind == S_IFREG ? "file" : "other"
            result.append(Node(
                path: relative, type: type, mode: UInt16(status.st_mode & 0o7777), mtime: Int(status.st_mtim.tv_sec),
                content: kind == S_IFREG ? try Data(contentsOf: URL(fileURLWithPath: full)) : nil,
                linkTarget: kind == S_IFLNK ? try FileManager.default.destinationOfSymbolicLink(atPath: full) : nil))
        }
        return result.sorted { $0.path < $1.path }
    }

    static func assertSameTree(_ expected: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let left = try nodes(at: expected)
        let right = try nodes(at: actual)
        XCTAssertEqual(left.map(\.path), right.map(\.path), file: file, line: line)
        for (a, b) in zip(left, right) {
            XCTAssertEqual(a, b, file: file, line: line)
        }
    }
}
