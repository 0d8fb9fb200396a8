import Foundation
import Synchronization
import XCTest

@testable import BinaryCache

/// Installs into a small tmpfs software_root: what a release may take is bounded while it
/// is expanded (by its signed sizes, or by the free space to keep), every write error
/// fails the install, and a failed install leaves nothing.
final class InstallLimitsTests: XCTestCase {
    private var fixture: BinaryCacheFixture!
    private var mounted = false

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture.server.stop()
        if mounted { umount2(fixture.softwareRoot, Int32(MNT_DETACH)) }
    }

    /// Mounts a tmpfs of `size` on software_root.
    private func mountTmpfs(_ options: String) throws {
        guard getuid() == 0 else { throw TestFailure("this test mounts a tmpfs; run the suite as root, as CI does") }
        let result = try NetcacheTests.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", options, "tmpfs", fixture.softwareRoot])
        guard result.status == 0 else { throw TestFailure("mount: \(result.stderr)") }
        mounted = true
    }

    /// Runs the install while sampling software_root's free space; returns the result and
    /// the least free space seen.
    private func installSampling(config: String? = nil, prefix: [String] = []) throws -> (result: CommandResult, leastFree: Int) {
        let root = fixture.softwareRoot
        let leastFree = Mutex(Int.max)
        let stop = Atomic(false)
        let sampler = Thread {
            while !stop.load(ordering: .relaxed) {
                var info = statvfs()
                if statvfs(root, &info) == 0 {
                    let free = Int(info.f_bavail) * Int(info.f_frsize)
                    leastFree.withLock { $0 = min($0, free) }
                }
                usleep(2_000)
            }
        }
        sampler.start()
        let arguments = ["install", "-c", try config ?? fixture.config(slapos: "software_min_free_space = 0"), "--software-url", fixture.softwareURL]
        let result = prefix.isEmpty
            ? try netcache(arguments: arguments)
            : try NetcacheTests.run(URL(fileURLWithPath: prefix[0]), Array(prefix.dropFirst()) + [Binaries.netcache.path] + arguments)
        stop.store(true, ordering: .relaxed)
        while !sampler.isFinished { usleep(1_000) }
        return (result, leastFree.withLock { $0 })
    }

    private func assertFailedCleanly(_ result: CommandResult, mentioning text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), "stderr does not say \(text): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(try fixture.strayEntries(), [], file: file, line: line)
    }

    func testABombPastItsSignedUnpackedSizeStopsThereAndLeavesNothing() throws {
        try mountTmpfs("size=64m")
        let bomb = try fixture.archive([.directory(fixture.md5), .zeros(fixture.md5 + "/bomb", size: 500 << 20)])
        try fixture.publishArchive(bomb, sizes: .init(size: bomb.count, unpackedSize: 1 << 20, fileCount: 2))
        let (result, leastFree) = try installSampling()
        try assertFailedCleanly(result, mentioning: "more than the 1048576 bytes its entry signed (unpacked_size), at \(fixture.md5)/bomb")
        XCTAssertGreaterThan(leastFree, 56 << 20, "the bomb filled software_root")
    }

    func testMoreEntriesThanTheSignedFileCountStop() throws {
        try mountTmpfs("size=64m")
        let archive = try fixture.archive([.directory(fixture.md5)] + (0..<50).map { .file(fixture.md5 + "/file\($0)") })
        try fixture.publishArchive(archive, sizes: .init(size: archive.count, unpackedSize: 250, fileCount: 3))
        try assertFailedCleanly(try installSampling().result, mentioning: "more than the 3 entries its entry signed (file_count), at \(fixture.md5)/file2")
    }

    func testADownloadPastItsSignedSizeStops() throws {
        try mountTmpfs("size=64m")
        let archive = try fixture.archive([.directory(fixture.md5)] + (0..<30).map { .file(fixture.md5 + "/file\($0)") }, fileSize: 200_000)
        try fixture.publishArchive(archive, sizes: .init(size: archive.count / 2, unpackedSize: 30 * 200_000, fileCount: 31))
        try assertFailedCleanly(try installSampling().result, mentioning: "more than the \(archive.count / 2) bytes its entry signed (size)")
    }

    /// Legacy entries sign no sizes: a 500 MB file in a 64 MB software_root stops at the
    /// floor kept free when software_min_free_space is 0, and at software_min_free_space
    /// otherwise.
    func testALegacyBombStopsAtTheFreeSpaceFloor() throws {
        try mountTmpfs("size=64m")
        let bomb = try fixture.archive([.directory(fixture.md5), .zeros(fixture.md5 + "/bomb", size: 500 << 20)], format: .gzip)
        try fixture.publishArchive(bomb, format: .gzip)
        let floor = try installSampling(config: try fixture.config(slapos: "software_min_free_space = 0"))
        try assertFailedCleanly(floor.result, mentioning: "not enough space in \(fixture.softwareRoot) to go on at \(fixture.md5)/bomb")
        XCTAssertTrue(floor.result.stderr.contains("16 MiB must stay free"), floor.result.stderr)
        XCTAssertGreaterThanOrEqual(floor.leastFree, 12 << 20, "software_root was filled")

        let configured = try installSampling(config: try fixture.config(name: "min.cfg", slapos: "software_min_free_space = 40M"))
        try assertFailedCleanly(configured.result, mentioning: "40 MiB must stay free (software_min_free_space)")
        XCTAssertGreaterThanOrEqual(configured.leastFree, 36 << 20, "software_min_free_space was not kept")
    }

    /// Every file created past the file system's inodes fails the install, named.
    func testRunningOutOfInodesFailsTheInstall() throws {
        try mountTmpfs("size=64m,nr_inodes=40")
        let archive = try fixture.archive([.directory(fixture.md5)] + (0..<60).map { .file(fixture.md5 + "/file\($0)") })
        try fixture.publishArchive(archive, sizes: .init(size: archive.count, unpackedSize: 300, fileCount: 61))
        let result = try installSampling().result
        try assertFailedCleanly(result, mentioning: "No space left on device")
        XCTAssertTrue(result.stderr.contains("cannot create \(fixture.md5)/file"), result.stderr)
    }

    /// A write that fails halfway through a file (here past a file-size limit) fails the
    /// install: no truncated file is ever installed as if it were whole.
    func testAFailedWriteFailsTheInstall() throws {
        let archive = try fixture.archive([.directory(fixture.md5), .zeros(fixture.md5 + "/large", size: 8 << 20)])
        try fixture.publishArchive(archive, sizes: .init(size: archive.count, unpackedSize: 8 << 20, fileCount: 2))
        let result = try installSampling(prefix: ["/usr/bin/prlimit", "--fsize=\(2 << 20)"]).result
        try assertFailedCleanly(result, mentioning: "cannot write \(fixture.md5)/large: File too large")
    }
}
