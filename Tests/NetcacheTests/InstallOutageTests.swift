import Foundation
import NetcacheProtocol
import XCTest

/// A cache outage never stops a build: a directory or cache that is down or hung costs a
/// warning and exit 3 (build it), a lost or corrupted blob falls back to the next entry,
/// and only a forced URL fails. The same through the slapgrid wrapper.
final class InstallOutageTests: XCTestCase {
    private var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        try fixture.publishReleaseElsewhere()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    /// slapos.cfg with the binary cache's download URLs pointed elsewhere.
    private func config(dir: String? = nil, cache: String? = nil, extra: String = "") throws -> String {
        let path = try fixture.config(name: "outage-\(UUID().uuidString).cfg", extra: extra)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        if let dir { text = text.replacingOccurrences(of: "download-binary-dir-url = \(fixture.server.shadirURL)", with: "download-binary-dir-url = \(dir)") }
        if let cache { text = text.replacingOccurrences(of: "download-binary-cache-url = \(fixture.server.shacacheURL)", with: "download-binary-cache-url = \(cache)") }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func install(_ config: String) throws -> CommandResult {
        try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
    }

    private func blobPath(_ format: String) throws -> URL {
        let lookup = try netcache("lookup", "binary-sr", "-c", try fixture.config(), fixture.softwareURL, "--json")
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: lookup.stdout) as? [[String: Any]])
        let sha512 = try XCTUnwrap(rows.first { $0["format"] as? String == format }?["sha512"] as? String)
        return fixture.server.dataDirectory.appendingPathComponent("shacache/\(sha512.prefix(2))/\(sha512)")
    }

    private func assertBuildsSaying(_ result: CommandResult, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(result.status, 3, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), "stderr does not say \(text): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release), file: file, line: line)
        XCTAssertEqual(try fixture.strayEntries(), [], file: file, line: line)
    }

    func testADirectoryOnAClosedPortBuilds() throws {
        let closed = try SilentListener.closedPortURL()
        try assertBuildsSaying(try install(try config(dir: closed + "/shadir")), "binary cache unreachable: GET \(closed)/shadir/")
    }

    func testACacheOnAClosedPortBuilds() throws {
        let closed = try SilentListener.closedPortURL()
        let result = try install(try config(cache: closed + "/shacache"))
        try assertBuildsSaying(result, "binary cache unavailable: chunks entry")
        XCTAssertTrue(result.stderr.contains("gzip entry"), "the gzip entry was not tried: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("GET \(closed)/shacache/"), result.stderr)
    }

    /// A server that takes the connection and never answers costs the low-speed time,
    /// which slapos.cfg sets.
    func testAServerThatNeverAnswersBuildsAfterTheLowSpeedTime() throws {
        let hung = try SilentListener()
        let started = Date()
        let result = try install(try config(dir: hung.url + "/shadir", extra: "binary-cache-low-speed-time = 1"))
        try assertBuildsSaying(result, "binary cache unreachable: GET \(hung.url)/shadir/")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "binary-cache-low-speed-time was not applied")
    }

    func testADeletedChunkIndexInstallsFromTheGzipEntry() throws {
        try FileManager.default.removeItem(at: try blobPath("chunks"))
        let result = try install(try fixture.config())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.output.hasPrefix("installed: \(fixture.release) from \(fixture.md5) (gzip"), result.output)
        XCTAssertTrue(result.stderr.contains("chunks entry"), result.stderr)
        XCTAssertTrue(result.stderr.contains("HTTP 404"), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.release + "/bin/run"))
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    func testACorruptedChunkIndexInstallsFromTheGzipEntry() throws {
        let blob = try blobPath("chunks")
        var bytes = try Data(contentsOf: blob)
        for index in stride(from: 100, to: bytes.count - 100, by: 997) { bytes[index] ^= 0xA5 }
        try bytes.write(to: blob)
        let result = try install(try fixture.config())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.output.hasPrefix("installed: \(fixture.release) from \(fixture.md5) (gzip"), result.output)
        XCTAssertTrue(result.stderr.contains("invalid checksum"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    func testAForcedURLWithTheCacheDownIsAnError() throws {
        let closed = try SilentListener.closedPortURL()
        let result = try install(try config(dir: closed + "/shadir", extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/"))
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("binary cache forced for \(fixture.softwareURL)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("GET \(closed)/shadir/"), result.stderr)
    }

    // MARK: The wrapper around slapos node software

    /// Runs the wrapper with stand-ins for slapos (which "builds" what is missing) and for
    /// netcache (which records its arguments, one per line, and runs the real one).
    private func wrapper(_ config: String, urls: [String]) throws -> (result: CommandResult, slaposCalls: String, netcacheCalls: [String]) {
        let slaposCalls = fixture.directory.appendingPathComponent("slapos-calls").path
        let netcacheCalls = fixture.directory.appendingPathComponent("netcache-calls").path
        for path in [slaposCalls, netcacheCalls] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let fakeSlapos = fixture.directory.appendingPathComponent("slapos").path
        try """
            #!/bin/sh
            echo "$@" >> \(slaposCalls)
            mkdir -p \(fixture.release)/bin && echo built > \(fixture.release)/bin/program
            """.write(toFile: fakeSlapos, atomically: true, encoding: .utf8)
        let recordingNetcache = fixture.directory.appendingPathComponent("netcache").path
        try """
            #!/bin/sh
            printf '%s\\n' "$@" >> \(netcacheCalls)
            exec \(Binaries.netcache.path) "$@"
            """.write(toFile: recordingNetcache, atomically: true, encoding: .utf8)
        chmod(fakeSlapos, 0o755)
        chmod(recordingNetcache, 0o755)
        let result = try NetcacheTests.run(
            URL(fileURLWithPath: Binaries.packageRoot.appendingPathComponent("fixtures/slapgrid/netcache-node-software").path),
            [config] + urls + ["--", "--all"],
            environment: ["NETCACHE_BIN": recordingNetcache, "SLAPOS_BIN": fakeSlapos], directory: fixture.directory)
        return (result, try String(contentsOfFile: slaposCalls, encoding: .utf8),
                try String(contentsOfFile: netcacheCalls, encoding: .utf8).split(separator: "\n").map(String.init))
    }

    func testTheWrapperBuildsWhateverTheCacheDoes() throws {
        let closed = try SilentListener.closedPortURL()
        let hung = try SilentListener()
        let lowSpeed = "binary-cache-low-speed-time = 1"
        let outages = [
            ("directory on a closed port", try config(dir: closed + "/shadir")),
            ("cache on a closed port", try config(cache: closed + "/shacache")),
            ("directory that never answers", try config(dir: hung.url + "/shadir", extra: lowSpeed)),
        ]
        for (what, config) in outages {
            let run = try wrapper(config, urls: [fixture.softwareURL])
            XCTAssertEqual(run.result.status, 0, "\(what): \(run.result.stderr)")
            XCTAssertEqual(run.slaposCalls, "node software --cfg \(config) --all\n", what)
            XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.release + "/bin/program"), "\(what): not built")
            try FileManager.default.removeItem(atPath: fixture.release)
        }
    }

    func testTheWrapperInstallsFromTheGzipEntryWhenTheChunkIndexIsLostOrCorrupt() throws {
        let blob = try blobPath("chunks")
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: blob)
        let corrupt = try wrapper(try fixture.config(), urls: [fixture.softwareURL])
        XCTAssertEqual(corrupt.result.status, 0, corrupt.result.stderr)
        XCTAssertTrue(corrupt.result.output.contains("installed: \(fixture.release) from \(fixture.md5) (gzip"), corrupt.result.output)
        XCTAssertFalse(corrupt.netcacheCalls.contains("publish"), "published although installed from the cache")

        try FileManager.default.removeItem(atPath: fixture.release)
        try FileManager.default.removeItem(at: blob)
        let lost = try wrapper(try fixture.config(), urls: [fixture.softwareURL])
        XCTAssertEqual(lost.result.status, 0, lost.result.stderr)
        XCTAssertTrue(lost.result.output.contains("installed: \(fixture.release) from \(fixture.md5) (gzip"), lost.result.output)
    }

    func testTheWrapperStopsOnlyForAForcedURL() throws {
        let closed = try SilentListener.closedPortURL()
        let forced = try config(dir: closed + "/shadir", extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/")
        let run = try wrapper(forced, urls: [fixture.softwareURL])
        XCTAssertEqual(run.result.status, 1, run.result.stderr)
        XCTAssertEqual(run.slaposCalls, "", "slapos ran although a forced URL could not be installed")
        XCTAssertTrue(run.result.stderr.contains("\(fixture.softwareURL) must come from the binary cache"), run.result.stderr)
    }

    /// URLs reach netcache whole, whatever they hold: no word splitting, no globbing.
    func testTheWrapperPassesURLsWhole() throws {
        let spaced = "https://lab.example/soft ware/release.cfg"
        // The wrapper runs in fixture.directory, where a glob would match this file.
        let globbed = "slapos-call*"
        let run = try wrapper(try fixture.config(), urls: [spaced, globbed])
        XCTAssertEqual(run.result.status, 0, run.result.stderr)
        let urls = zip(run.netcacheCalls, run.netcacheCalls.dropFirst()).filter { $0.0 == "--software-url" }.map(\.1)
        XCTAssertEqual(urls, [spaced, globbed, spaced, globbed], "install then publish of each, whole: \(run.netcacheCalls)")
    }
}
