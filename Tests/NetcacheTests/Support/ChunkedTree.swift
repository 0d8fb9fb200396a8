import Foundation
import XCTest

/// A release tree large enough for many chunks, made the same way under any root: files
/// of pseudo-random bytes (incompressible, so sizes mean something), a script and a
/// binary-like file naming the tree's own path, a symlink into the tree, a hard link, an
/// empty file. Every mtime is fixed, so that two trees made alike compare equal.
///
/// `version` 2 is an upgrade of 1: one large file changed in its middle, one file added.
enum ChunkedTree {
    static let mtime = 1_700_000_000
    static let fileCount = 24
    static let fileSize = 96 << 10

    /// `root` is the text written where the tree names its software_root (a relocated
    /// tree's padded root), `md5` the release's directory name.
    static func make(at path: String, root: String, md5: String, version: Int = 1) throws {
        let fm = FileManager.default
        let own = root + "/" + md5
        for directory in ["bin", "lib/data", "share"] {
            try fm.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        for index in 0..<fileCount {
            var bytes = noise(seed: UInt64(index + 1), count: fileSize)
            if version == 2 && index == 7 {
                for offset in 40_000..<40_100 { bytes[offset] ^= 0x5A }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/lib/data/part-\(index).bin"))
        }
        if version == 2 {
            try Data(noise(seed: 999, count: 150 << 10)).write(to: URL(fileURLWithPath: path + "/lib/data/new.bin"))
        }
        try "#!\(own)/bin/tool\n# from \(own)/share and \(root)/other/x\necho \(own)/lib\n".write(toFile: path + "/bin/run", atomically: true, encoding: .utf8)
        chmod(path + "/bin/run", 0o755)
        try Data([0x7F] + Array("not elf\0\(own)/lib/data\0tail".utf8) + noise(seed: 77, count: 4000)).write(to: URL(fileURLWithPath: path + "/lib/blob.dat"))
        try FileManager.default.createSymbolicLink(atPath: path + "/share/link", withDestinationPath: own + "/lib/data/part-0.bin")
        XCTAssertEqual(link(path + "/bin/run", path + "/bin/run-again"), 0)
        try Data().write(to: URL(fileURLWithPath: path + "/share/empty"))
        try fixTimes(path)
    }

    private static func noise(seed: UInt64, count: Int) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    /// Depth first, so that a directory's time is set after its entries are.
    private static func fixTimes(_ path: String) throws {
        if let children = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for child in children {
                var status = stat()
                lstat(path + "/" + child, &status)
                if status.st_mode & S_IFMT == S_IFDIR { try fixTimes(path + "/" + child) } else { try setTime(path + "/" + child) }
            }
        }
        try setTime(path)
    }

    private static func setTime(_ path: String) throws {
        var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw TestFailure("cannot set the times of \(path)") }
    }
}
