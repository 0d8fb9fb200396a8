import Foundation
import NetcacheProtocol
import XCTest

/// Installs and publishes run for real, at the same time as each other, interrupted by
/// signals or killed: one release is written by one process at a time, and whatever ends
/// a process, nothing of it is left once the next one has run.
final class InstallConcurrencyTests: XCTestCase {
    private var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    /// A netcache process running in the background, its output kept in files.
    private final class Background {
        let process = Process()
        private let output: URL
        private let errors: URL

        init(_ arguments: [String], in directory: URL) throws {
            output = directory.appendingPathComponent("out-\(UUID().uuidString)")
            errors = directory.appendingPathComponent("err-\(UUID().uuidString)")
            for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
            process.executableURL = Binaries.netcache
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        func wait() throws -> CommandResult {
            process.waitUntilExit()
            return CommandResult(status: process.terminationStatus, stdout: try Data(contentsOf: output),
                                 stderr: try String(contentsOf: errors, encoding: .utf8))
        }
    }

    /// Publishes a release of 40 files of incompressible bytes, and returns a config whose
    /// downloads stall once past the first MiB until `gate` opens: the test acts meanwhile.
    private func publishSlowRelease() throws -> (config: String, proxy: CuttingProxy, gate: TestGate) {
        let items: [BinaryCacheFixture.Item] = [.directory(fixture.md5), .directory(fixture.md5 + "/lib")]
            + (0..<40).map { .file(fixture.md5 + "/lib/file\($0)") }
        try fixture.publishArchive(try fixture.archive(items, fileSize: 50_000))
        let gate = TestGate()
        let proxy = try CuttingProxy(upstream: fixture.server.url, behaviour: .holdEveryResponse(after: 1_300_000, until: gate))
        let config = try fixture.rewritten(
            try fixture.config(name: "slow.cfg"), replacing: "download-binary-cache-url = \(fixture.server.shacacheURL)", with: "download-binary-cache-url = \(proxy.url)/shacache")
        return (config, proxy, gate)
    }

    private func install(_ config: String) throws -> Background {
        try Background(["install", "-c", config, "--software-url", fixture.softwareURL], in: fixture.directory)
    }

    /// Waits until an install has written some of the release into its staging directory
    /// (one not named in `besides`).
    private func waitForStaging(besides: Set<String> = [], file: StaticString = #filePath, line: UInt = #line) -> String? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let names = (try? fixture.strayEntries()) ?? []
            if let staging = names.first(where: { $0.hasPrefix(".netcache-install-") && !besides.contains($0) }),
                FileManager.default.fileExists(atPath: "\(fixture.softwareRoot)/\(staging)/\(fixture.md5)/lib/file0") {
                return staging
            }
            usleep(5_000)
        }
        XCTFail("no install got as far as its staging directory", file: file, line: line)
        return nil
    }

    /// Whether a process waits for a lock (a `->` line of /proc/locks names it).
    private func waitsForALock(_ process: Process) throws -> Bool {
        try String(contentsOfFile: "/proc/locks", encoding: .utf8).split(separator: "\n").contains {
            $0.contains("->") && $0.split(separator: " ").contains(Substring(String(process.processIdentifier)))
        }
    }

    func testTwoInstallsOfOneReleaseAtOnceInstallItOnce() throws {
        let (config, proxy, gate) = try publishSlowRelease()
        defer { gate.open() }
        let first = try install(config)
        _ = waitForStaging()
        let second = try install(config)
        try waitUntil { try self.waitsForALock(second.process) }
        gate.open()
        let results = [try first.wait(), try second.wait()]
        XCTAssertEqual(results.map(\.status), [0, 3], results.map(\.stderr).joined())
        XCTAssertEqual(results[1].stderr, "netcache: not installed from the binary cache: \(fixture.release) is already there, installed or built before; nothing was changed\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.release + "/lib").count, 40)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
        withExtendedLifetime(proxy) {}
    }

    func testTwoPublishesOfOneReleaseAtOnceFileOneEntryEach() throws {
        try ReleaseTree.make(at: fixture.release)
        try ReleaseTree.addNoise(at: fixture.release + "/lib/large.bin", megabytes: 16)
        let config = try fixture.config()
        let publishes = try (0..<2).map { _ in
            try Background(["publish", "-c", config, "--software-url", fixture.softwareURL], in: fixture.directory)
        }
        let results = try publishes.map { try $0.wait() }
        XCTAssertEqual(results.map(\.status), [0, 0], results.map(\.stderr).joined())
        let states = results.flatMap { $0.output.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) } }
        XCTAssertEqual(states.filter { $0 == "published" }.count, 2, "\(states)")
        XCTAssertEqual(states.filter { $0 == "unchanged" }.count, 2, "\(states)")
        for key in ["netcache:" + fixture.md5, fixture.md5] {
            let listing = try TestHTTP.request("GET", fixture.server.shadirURL + "/" + key)
            let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listing.body)) as? [[Any]])
            XCTAssertEqual(entries.count, 1, key)
        }
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    func testSIGTERMDuringAnInstallRemovesItsStagingTree() throws {
        let (config, proxy, gate) = try publishSlowRelease()
        defer { gate.open() }
        let running = try install(config)
        _ = waitForStaging()
        kill(running.process.processIdentifier, SIGTERM)
        let result = try running.wait()
        XCTAssertEqual(result.status, 128 + SIGTERM, result.stderr)
        XCTAssertEqual(result.stderr, "netcache: interrupted by SIGTERM\n")
        XCTAssertEqual(try fixture.strayEntries(), [])
        withExtendedLifetime(proxy) {}
    }

    func testSIGINTDuringAPublishLeavesNothing() throws {
        try ReleaseTree.make(at: fixture.release)
        try ReleaseTree.addNoise(at: fixture.release + "/lib/large.bin", megabytes: 64)
        let running = try Background(["publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL], in: fixture.directory)
        usleep(300_000)
        kill(running.process.processIdentifier, SIGINT)
        let result = try running.wait()
        XCTAssertEqual(result.status, 128 + SIGINT, result.stderr)
        XCTAssertEqual(result.stderr, "netcache: interrupted by SIGINT\n")
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]).filter { !$0.hasPrefix(".netcache-lock-") }, [])
        // What a lock file left behind is, the next run removes.
        let next = try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(next.status, 0, next.stderr)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    /// After kill -9 the staging tree stays: the next install of any release on that
    /// software_root removes it, and never one a live install holds.
    func testTheNextInstallRemovesWhatAKilledOneLeft() throws {
        let (config, proxy, gate) = try publishSlowRelease()
        defer { gate.open() }
        let killed = try install(config)
        let staging = try XCTUnwrap(waitForStaging())
        kill(killed.process.processIdentifier, SIGKILL)
        XCTAssertEqual(try killed.wait().status, SIGKILL)
        XCTAssertTrue(try fixture.strayEntries().contains(staging), "the killed install left nothing to clean")

        // A live install of the same release holds its own staging tree meanwhile, held
        // in its download once it has written some of it there.
        let live = try install(config)
        let liveStaging = try XCTUnwrap(waitForStaging(besides: [staging]))
        XCTAssertFalse(try fixture.strayEntries().contains(staging), "the leftover was not removed")
        // A publish of another release cleans up too, and must leave the live one's alone.
        let otherURL = "https://lab.example/software/other/software.cfg"
        try ReleaseTree.make(at: fixture.softwareRoot + "/" + StreamingDigest.md5Hex(of: otherURL))
        let other = try netcache("publish", "-c", config, "--software-url", otherURL)
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertTrue(try fixture.strayEntries().contains(liveStaging), "the publish removed the live install's staging tree")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(fixture.softwareRoot)/\(liveStaging)/\(fixture.md5)/lib/file0"))
        gate.open()
        let result = try live.wait()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.release + "/lib").count, 40)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5, StreamingDigest.md5Hex(of: otherURL)]), [])
        withExtendedLifetime(proxy) {}
    }

    /// Extraction writes relative to the staging directory's descriptor: the process's
    /// working directory, which other threads (libcurl's relative CA paths) resolve names
    /// against, never moves into staging.
    func testTheWorkingDirectoryStaysWhereTheInstallStarted() throws {
        let (config, proxy, gate) = try publishSlowRelease()
        defer { gate.open() }
        let running = try install(config)
        _ = waitForStaging()
        let cwd = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(running.process.processIdentifier)/cwd")
        XCTAssertEqual(cwd, fixture.directory.path)
        gate.open()
        XCTAssertEqual(try running.wait().status, 0)
        withExtendedLifetime(proxy) {}
    }
}
