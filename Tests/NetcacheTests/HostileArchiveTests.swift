import CArchive
import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache
@testable import NetcacheClient

/// Archives built to attack the installer: each must be refused with the offending path
/// named, nothing left on disk, the target and everything outside untouched.
final class HostileArchiveTests: XCTestCase {
    typealias Item = BinaryCacheFixture.Item

    var fixture: BinaryCacheFixture!
    var decoy: String!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        let outside = fixture.directory.appendingPathComponent("outside").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        decoy = outside + "/decoy"
        try Data("decoy content".utf8).write(to: URL(fileURLWithPath: decoy))
    }

    override func tearDown() {
        fixture.server.stop()
    }

    private func assertRefused(_ items: [Item], mentioning offending: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRefused(try tar(items), mentioning: offending, file: file, line: line)
    }

    private func assertRefused(_ archive: [UInt8], mentioning offending: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try publish(archive)
        let result = try netcache("install", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(offending), "stderr does not name \(offending): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(try fixture.strayEntries(), [], file: file, line: line)
        XCTAssertEqual(try String(contentsOfFile: decoy, encoding: .utf8), "decoy content", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (decoy as NSString).deletingLastPathComponent), ["decoy"], file: file, line: line)
    }

    func testAbsolutePathIsRefused() throws {
        let outside = (decoy as NSString).deletingLastPathComponent
        try assertRefused([.directory(fixture.md5), .file(outside + "/planted")], mentioning: outside + "/planted")
    }

    func testDotDotEscapeIsRefused() throws {
        try assertRefused([.directory(fixture.md5), .file(fixture.md5 + "/../../outside/planted")], mentioning: fixture.md5 + "/../../outside/planted")
    }

    func testEntriesOutsideTheReleaseAreRefused() throws {
        try assertRefused([.directory(fixture.md5), .file("other/planted")], mentioning: "other/planted")
    }

    func testWritingThroughASymlinkIsRefused() throws {
        let outside = (decoy as NSString).deletingLastPathComponent
        try assertRefused(
            [.directory(fixture.md5), .symlink(fixture.md5 + "/link", target: outside), .file(fixture.md5 + "/link/planted")],
            mentioning: fixture.md5 + "/link/planted")
    }

    /// U+0600 is a prepend character: Swift sees "\u{600}/" as one character, with no "/"
    /// in it; the kernel sees a separator. A check on Swift's characters would let the
    /// file through the symlink.
    func testASlashInsideAGraphemeClusterStillSeparates() throws {
        setlocale(LC_ALL, "C.UTF-8")
        let outside = (decoy as NSString).deletingLastPathComponent
        try assertRefused(
            [.directory(fixture.md5), .symlink(fixture.md5 + "/e\u{600}", target: outside), .file(fixture.md5 + "/e\u{600}/planted")],
            mentioning: "refusing to write through symlink")
    }

    /// "/\u{301}" is one character to Swift, not "/": an absolute name still starts with a
    /// slash byte.
    func testAnAbsoluteNameBehindACombiningMarkIsRefused() throws {
        setlocale(LC_ALL, "C.UTF-8")
        let outside = (decoy as NSString).deletingLastPathComponent
        try assertRefused([.directory(fixture.md5), .file("/\u{301}" + outside + "/planted")], mentioning: "refusing absolute path")
    }

    /// A newline in a name cannot forge a second line of output.
    func testANameWithANewlineIsRefusedOnOneLine() throws {
        try assertRefused([.directory(fixture.md5), .file(fixture.md5 + "/../planted\ninstalled: forged")], mentioning: "planted\\ninstalled: forged")
    }

    func testReplacingASymlinkIsRefused() throws {
        try assertRefused(
            [.directory(fixture.md5), .symlink(fixture.md5 + "/link", target: decoy), .file(fixture.md5 + "/link")],
            mentioning: fixture.md5 + "/link")
    }

    func testAbsoluteHardLinkOutOfTheTreeIsRefused() throws {
        try assertRefused([.directory(fixture.md5), .hardlink(fixture.md5 + "/stolen", target: decoy)], mentioning: decoy)
    }

    func testRelativeHardLinkOutOfTheTreeIsRefused() throws {
        try assertRefused([.directory(fixture.md5), .hardlink(fixture.md5 + "/stolen", target: fixture.md5 + "/../../outside/decoy")], mentioning: "../../outside/decoy")
    }

    func testReleaseDirectoryAsASymlinkIsRefused() throws {
        let outside = (decoy as NSString).deletingLastPathComponent
        try assertRefused([.symlink(fixture.md5, target: outside)], mentioning: "\(fixture.md5) that is not a directory")
    }

    func testReleaseDirectoryAsAFileIsRefused() throws {
        try assertRefused([.file(fixture.md5)], mentioning: "\(fixture.md5) that is not a directory")
    }

    /// GNU tar writes names as raw bytes; "caf\u{E9}" in Latin-1 is not UTF-8.
    func testNamesThatAreNotUTF8AreRefused() throws {
        let tree = fixture.directory.appendingPathComponent("latin1").path
        try FileManager.default.createDirectory(atPath: tree + "/" + fixture.md5, withIntermediateDirectories: true)
        let name = Array((tree + "/" + fixture.md5 + "/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9), 0]
        XCTAssertGreaterThanOrEqual(name.withUnsafeBufferPointer { creat($0.baseAddress!, 0o644) }, 0)
        let archive = try NetcacheTests.run(URL(fileURLWithPath: "/bin/tar"), ["-C", tree, "--format=gnu", "-cf", "-", fixture.md5])
        XCTAssertEqual(archive.status, 0, archive.stderr)
        try assertRefused(zstd(Array(archive.stdout)), mentioning: "not UTF-8 in archive: \(fixture.md5)/caf")
    }

    func testADirectoryLaterReplacedByASymlinkIsRefused() throws {
        try assertRefused(
            [.directory(fixture.md5), .directory(fixture.md5 + "/lib"), .symlink(fixture.md5 + "/lib", target: "/etc")],
            mentioning: "refusing a second entry for \(fixture.md5)/lib in archive")
    }

    func testAFileAndADirectoryOfOnePathAreRefused() throws {
        try assertRefused(
            [.directory(fixture.md5), .file(fixture.md5 + "/bin"), .directory(fixture.md5 + "/bin")],
            mentioning: "refusing a second entry for \(fixture.md5)/bin in archive")
    }

    func testAnEntryBeforeItsDirectoryIsRefused() throws {
        try assertRefused([.directory(fixture.md5), .file(fixture.md5 + "/lib/a"), .directory(fixture.md5 + "/lib")], mentioning: "\(fixture.md5)/lib/a: its directory comes later")
    }

    func testDeviceNodesAreRefused() throws {
        try assertRefused([.directory(fixture.md5), .device(fixture.md5 + "/disk")], mentioning: fixture.md5 + "/disk")
    }

    func testFIFOsAreRefused() throws {
        try assertRefused([.directory(fixture.md5), .fifo(fixture.md5 + "/pipe")], mentioning: fixture.md5 + "/pipe")
    }

    func testSetuidFilesAreRefused() throws {
        try assertRefused([.directory(fixture.md5), .file(fixture.md5 + "/su", mode: 0o4755)], mentioning: fixture.md5 + "/su")
    }

    func testSetgidFilesAreRefused() throws {
        try assertRefused([.directory(fixture.md5), .file(fixture.md5 + "/sg", mode: 0o2755)], mentioning: fixture.md5 + "/sg")
    }

    func testWrongSHA512IsRefusedAndNothingIsKept() throws {
        let sha512 = try publish(try tar([.directory(fixture.md5), .file(fixture.md5 + "/a")]))
        let stored = fixture.server.dataDirectory.appendingPathComponent("shacache/\(sha512.prefix(2))/\(sha512)")
        var bytes = try Data(contentsOf: stored)
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: stored)
        let result = try netcache("install", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("invalid checksum"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    /// A validly signed entry of another release, filed again under this release's key, is
    /// refused before its blob is fetched, and lookup says why.
    func testAnEntryOfAnotherReleaseFiledUnderThisKeyIsNeverDownloaded() throws {
        let other = "https://lab.example/software/other/software.cfg"
        let otherMD5 = StreamingDigest.md5Hex(of: other)
        let sha512 = try fixture.publishArchive(
            try tar([.directory(otherMD5), .file(otherMD5 + "/a")]), softwareURL: other, filedUnder: fixture.softwareURL)
        let config = try fixture.config()
        let recorded = try fixture.recorded(config)
        let result = try netcache("install", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("zstd entry \(sha512.prefix(12)): filed for another release: \(other)"), result.stderr)
        XCTAssertTrue(recorded.proxy.requests.contains { $0.hasPrefix("GET /shadir/") }, "\(recorded.proxy.requests)")
        XCTAssertEqual(recorded.proxy.requests.filter { $0.contains(sha512) }, [], "the blob was fetched")
        XCTAssertEqual(try fixture.strayEntries(), [])

        let json = try netcache("lookup", "binary-sr", "-c", config, fixture.softwareURL, "--json")
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["same_release"] as? Bool, false)
        XCTAssertEqual(rows.first?["software_url"] as? String, other)
        XCTAssertEqual(rows.first?["refusal"] as? String, "filed for another release: \(other)")
        let table = try netcache("lookup", "binary-sr", "-c", config, fixture.md5)
        XCTAssertTrue(table.output.contains("filed for another release: \(other)"), table.output)
    }

    /// A blob longer than its entry's signed size is cut off there, not read to its end.
    func testABlobLongerThanItsSignedSizeIsRefused() throws {
        let sha512 = try publish(try tar([.directory(fixture.md5), .file(fixture.md5 + "/a")]))
        let stored = fixture.server.dataDirectory.appendingPathComponent("shacache/\(sha512.prefix(2))/\(sha512)")
        var bytes = try Data(contentsOf: stored)
        bytes.append(Data(count: 1 << 20))
        try bytes.write(to: stored)
        let result = try netcache("install", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("more than the \(bytes.count - (1 << 20)) bytes its entry signed (size)"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    /// A download that keeps being cut is an outage, not a fault of the release: build it.
    func testTruncatedDownloadBuildsAndKeepsNothing() throws {
        let payload: [Item] = [.directory(fixture.md5)] + (0..<40).map { .file(fixture.md5 + "/file\($0)") }
        _ = try publish(try tar(payload, fileSize: 50_000))
        let proxy = try CuttingProxy(upstream: fixture.server.url, behaviour: .cutEveryResponse(after: 3_000))
        let result = try netcache("install", "-c", try config(downloadingThrough: proxy), "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("netcache: not installed from the binary cache: binary cache unavailable: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("\(proxy.url)/shacache/"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    /// software_root's owner renames the staging directory halfway through a root install
    /// and puts in its place a symlink to a release directory of theirs whose `lib` leads
    /// outside: what the install writes afterwards must still land in its own directory.
    func testSwappingTheStagingDirectoryRedirectsNothing() throws {
        let payload: [Item] = [.directory(fixture.md5), .directory(fixture.md5 + "/lib")] + (0..<40).map { .file(fixture.md5 + "/lib/file\($0)") }
        _ = try publish(try tar(payload, fileSize: 50_000))
        // The download hands the extractor 1 MiB batches: held after the first one until
        // the staging directory is swapped.
        let gate = TestGate()
        defer { gate.open() }
        let proxy = try CuttingProxy(upstream: fixture.server.url, behaviour: .holdEveryResponse(after: 1_300_000, until: gate))
        let outside = (decoy as NSString).deletingLastPathComponent
        let lure = fixture.directory.appendingPathComponent("lure").path
        try FileManager.default.createDirectory(atPath: lure + "/" + fixture.md5, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: lure + "/" + fixture.md5 + "/lib", withDestinationPath: outside)
        let root = fixture.softwareRoot, md5 = fixture.md5
        let swapped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer {
                gate.open()
                swapped.signal()
            }
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
                if let staging = names.first(where: { $0.hasPrefix(".netcache-install-") }),
                    FileManager.default.fileExists(atPath: "\(root)/\(staging)/\(md5)/lib/file0") {
                    rename("\(root)/\(staging)", "\(root)/moved-away")
                    symlink(lure, "\(root)/\(staging)")
                    return
                }
                usleep(5_000)
            }
        }
        let result = try netcache("install", "-c", try config(downloadingThrough: proxy), "--software-url", fixture.softwareURL)
        swapped.wait()
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/moved-away"), "the staging directory was never swapped")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["decoy"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.release + "/lib").count, 40)
    }

    /// Run as an ordinary user, a refused archive that made read-only and unreadable
    /// directories is still removed entirely.
    func testRefusedArchiveWithLockedDirectoriesLeavesNothingForAnOrdinaryUser() throws {
        guard getuid() == 0 else { throw TestFailure("this test installs as nobody through setpriv; run the suite as root, as CI does") }
        try publish(try tar([
            .directory(fixture.md5), .directory(fixture.md5 + "/ro", mode: 0o555), .file(fixture.md5 + "/ro/f"),
            .directory(fixture.md5 + "/sealed", mode: 0), .fifo(fixture.md5 + "/pipe"),
        ]))
        XCTAssertEqual(chown(fixture.softwareRoot, 65534, 65534), 0)
        chmod(fixture.directory.path, 0o755)
        // A copy nobody can run wherever the checkout is (under /root, say).
        let binary = fixture.directory.appendingPathComponent("netcache").path
        try FileManager.default.copyItem(atPath: Binaries.netcache.path, toPath: binary)
        let result = try NetcacheTests.run(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=65534", "--regid=65534", "--clear-groups", binary,
             "install", "-c", try fixture.config(), "--software-url", fixture.softwareURL],
            environment: ["HOME": fixture.directory.path])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("refusing FIFO in archive: \(fixture.md5)/pipe"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    private func config(downloadingThrough proxy: CuttingProxy) throws -> String {
        try fixture.rewritten(
            try fixture.config(name: "proxied.cfg"), replacing: "download-binary-cache-url = \(fixture.server.shacacheURL)", with: "download-binary-cache-url = \(proxy.url)/shacache")
    }

    private func tar(_ items: [Item], fileSize: Int = 5) throws -> [UInt8] {
        try fixture.archive(items, fileSize: fileSize)
    }

    private func zstd(_ tarBytes: [UInt8]) throws -> [UInt8] {
        var compressed: [UInt8] = []
        let compressor = try ZstdCompressor { compressed.append(contentsOf: $0) }
        try tarBytes.withUnsafeBytes { try compressor.compress($0) }
        try compressor.finish()
        return compressed
    }

    @discardableResult
    private func publish(_ archive: [UInt8]) throws -> String {
        try fixture.publishArchive(archive)
    }
}
