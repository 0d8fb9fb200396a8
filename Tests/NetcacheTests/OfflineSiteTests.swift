import Foundation
import NetcacheProtocol
import XCTest

/// Carrying a cache to a site: a release published on one server installs through a
/// mirror of it, and from a server loaded with an exported bundle, with no upstream.
final class OfflineSiteTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    var other: ServerProcess?

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        other?.stop()
        fixture?.server.stop()
    }

    /// slapos.cfg of the fixture, with every cache URL on `server` instead.
    private func config(on server: ServerProcess) throws -> String {
        let text = try String(contentsOfFile: try fixture.config(), encoding: .utf8).replacingOccurrences(of: fixture.server.url, with: server.url)
        let path = fixture.directory.appendingPathComponent("site-\(UUID().uuidString).cfg").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func installAndCompare(with config: String) throws {
        let expected = fixture.directory.appendingPathComponent("expected").path
        try ReleaseTree.make(at: expected)
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        try ReleaseTree.assertSameTree(expected, fixture.release)
    }

    func testAReleasePublishedUpstreamInstallsThroughAMirror() throws {
        try fixture.publishReleaseElsewhere()
        let mirror = try ServerProcess(arguments: ["--upstream-cache", fixture.server.shacacheURL, "--upstream-dir", fixture.server.shadirURL])
        other = mirror
        try installAndCompare(with: try config(on: mirror))
        XCTAssertEqual(mirror.storedBlobs().count, 2, "the mirror keeps the chunk index and the chunk it fetched")
    }

    func testAnExportedBundleInstallsAtASiteWithNoUpstream() throws {
        try fixture.publishReleaseElsewhere()
        let bundle = fixture.directory.appendingPathComponent("site.tar").path
        // Beside the running server that owns the directory: export only reads.
        let exported = try netcache("export", "--data", fixture.server.dataDirectory.path, "-o", bundle)
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let entries = fixture.server.dataDirectory.appendingPathComponent("shadir.sqlite")
        XCTAssertTrue(FileManager.default.fileExists(atPath: entries.path))
        fixture.server.stop()

        let site = try TemporaryDirectory.make()
        let imported = try netcache("import", bundle, "--data", site.appendingPathComponent("data").path)
        XCTAssertEqual(imported.status, 0, imported.stderr)
        // publish files a chunk index (of one chunk: the tree is small) under netcache:<md5>,
        // and a gzip archive under <md5>.
        XCTAssertEqual(imported.output, "3 blobs, 2 entries (2 new)\n")
        let again = try netcache("import", bundle, "--data", site.appendingPathComponent("data").path)
        XCTAssertTrue(again.output.hasSuffix("(0 new)\n"), again.output)

        let siteServer = try ServerProcess(dataDirectory: site)
        other = siteServer
        try installAndCompare(with: try config(on: siteServer))
    }

    func testABundleWithATamperedBlobFilesNothing() throws {
        try fixture.publishReleaseElsewhere()
        let bundle = fixture.directory.appendingPathComponent("site.tar").path
        XCTAssertEqual(try netcache("export", "--data", fixture.server.dataDirectory.path, "-o", bundle).status, 0)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: bundle)))
        // The first blob of the bundle: import stores those before the tampered one.
        let offsets = try fixture.server.storedBlobs().map { path -> Int in
            let blob = try Array(Data(contentsOf: fixture.server.dataDirectory.appendingPathComponent("shacache/" + path)))
            let probe = Array(blob[(blob.count / 2)..<min(blob.count, blob.count / 2 + 32)])
            return try XCTUnwrap((0...(bytes.count - probe.count)).first { bytes[$0..<($0 + probe.count)].elementsEqual(probe) })
        }
        bytes[try XCTUnwrap(offsets.min())] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: bundle))
        let site = try TemporaryDirectory.make()
        let imported = try netcache("import", bundle, "--data", site.appendingPathComponent("data").path)
        XCTAssertEqual(imported.status, 1)
        XCTAssertTrue(imported.stderr.contains("nothing of the bundle's entries was filed"), imported.stderr)
        let siteServer = try ServerProcess(dataDirectory: site)
        other = siteServer
        XCTAssertEqual(siteServer.storedBlobs(), [])
        XCTAssertEqual(try TestHTTP.request("GET", siteServer.shadirURL + "/netcache:" + fixture.md5).status, 404)
    }

    func testImportRefusesADataDirectoryInUse() throws {
        try fixture.publishReleaseElsewhere()
        let bundle = fixture.directory.appendingPathComponent("site.tar").path
        XCTAssertEqual(try netcache("export", "--data", fixture.server.dataDirectory.path, "-o", bundle).status, 0)
        let imported = try netcache("import", bundle, "--data", fixture.server.dataDirectory.path)
        XCTAssertEqual(imported.status, 1)
        XCTAssertTrue(imported.stderr.contains("is in use by another netcache serve"), imported.stderr)
    }

    func testAPulledMirrorRestartedWithUpstreamGoneInstallsTheRelease() throws {
        try fixture.publishReleaseElsewhere()
        let mirrorDirectory = try TemporaryDirectory.make()
        var mirror = try ServerProcess(
            arguments: ["--upstream-cache", fixture.server.shacacheURL, "--upstream-dir", fixture.server.shadirURL], dataDirectory: mirrorDirectory)
        let pulled = try netcache("mirror", "pull", "-c", try config(on: mirror), "--software-url", fixture.softwareURL)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        XCTAssertEqual(pulled.output, "netcache:\(fixture.md5): 1 entries, 2 blobs\n\(fixture.md5): 1 entries, 1 blobs\n")
        let upstreamURL = fixture.server.url
        fixture.server.stop()
        mirror.stop()

        mirror = try ServerProcess(arguments: ["--upstream-cache", upstreamURL + "/shacache", "--upstream-dir", upstreamURL + "/shadir"], dataDirectory: mirrorDirectory)
        other = mirror
        try installAndCompare(with: try config(on: mirror))
    }

    func testAPullIntoADataDirectoryServesTheReleaseOnItsOwn() throws {
        try fixture.publishReleaseElsewhere()
        let site = try TemporaryDirectory.make()
        let pulled = try netcache("mirror", "pull", "-c", try fixture.config(), "--software-url", fixture.softwareURL, "--data", site.appendingPathComponent("data").path)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        fixture.server.stop()
        let siteServer = try ServerProcess(dataDirectory: site)
        other = siteServer
        XCTAssertEqual(siteServer.storedBlobs().count, 3)
        try installAndCompare(with: try config(on: siteServer))
    }
}
