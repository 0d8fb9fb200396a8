import Foundation
import NetcacheProtocol
import XCTest

/// The two ways into slapgrid: the wrapper around `slapos node software`, and the drop-in
/// that an unmodified slapos.core loads from a .pth file.
final class SlapgridIntegrationTests: XCTestCase {
    var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    private var python: String { Binaries.packageRoot.appendingPathComponent(".venv/bin/python").path }
    private var slapgridFixtures: String { Binaries.packageRoot.appendingPathComponent("fixtures/slapgrid").path }

    private func requireVenv() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("no interop venv at \(python): run scripts/interop-venv.sh")
        }
    }

    /// Runs slapgrid's Software.install with the drop-in; returns what the driver saw.
    private func slapgridInstall(config: String) throws -> [String: Any] {
        let enable = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), [slapgridFixtures + "/enable-dropin.sh", python])
        XCTAssertEqual(enable.status, 0, enable.stderr)
        let certificateFile = fixture.directory.appendingPathComponent("signature.cert").path
        try fixture.certificate.write(toFile: certificateFile, atomically: true, encoding: .utf8)
        let result = try NetcacheTests.run(
            URL(fileURLWithPath: python),
            [Binaries.packageRoot.appendingPathComponent("Tests/interop/slapgrid_dropin.py").path, fixture.softwareURL, fixture.softwareRoot,
             fixture.server.shacacheURL, fixture.server.shadirURL, fixture.keyFile, certificateFile],
            environment: ["NETCACHE_BIN": Binaries.netcache.path, "NETCACHE_SLAPOS_CFG": config])
        XCTAssertEqual(result.status, 0, result.stderr)
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], result.output + result.stderr)
    }

    func testDropInInstallsFromTheCacheWithoutBuilding() throws {
        try requireVenv()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)

        let events = try slapgridInstall(config: config)
        XCTAssertEqual(events["patched_by_pth"] as? Bool, true)
        XCTAssertEqual(events["install_is_netcache"] as? Bool, true)
        XCTAssertEqual(events["result"] as? String, "ok")
        XCTAssertEqual(events["built"] as? Bool, false)
        try ReleaseTree.assertSameTree(original, fixture.release)
        XCTAssertTrue(fixture.server.log.contains("GET /shacache/"), "not downloaded through netcache")
    }

    func testDropInFallsBackToBuildingAndPublishesWithNetcache() throws {
        try requireVenv()
        let config = try fixture.config()
        let events = try slapgridInstall(config: config)
        XCTAssertEqual(events["result"] as? String, "ok")
        XCTAssertEqual(events["built"] as? Bool, true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.release + "/bin/program"))
        let lookup = try netcache("lookup", "binary-sr", "-c", config, fixture.softwareURL, "--json")
        XCTAssertEqual(lookup.status, 0, lookup.stderr)
        XCTAssertTrue(lookup.output.contains("\"key\": \"netcache:\(fixture.md5)\""), lookup.output)
        XCTAssertTrue(lookup.output.contains("\"key\": \"\(fixture.md5)\""), lookup.output)
    }

    func testDropInKeepsTheForcedURLFailure() throws {
        try requireVenv()
        let config = try fixture.config(extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/")
        let events = try slapgridInstall(config: config)
        XCTAssertEqual(events["built"] as? Bool, false)
        XCTAssertTrue((events["result"] as? String ?? "").hasPrefix("BuildoutFailedError"), "\(events)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release))
    }

    func testWrapperInstallsBeforeAndPublishesAfterSlaposNodeSoftware() throws {
        let config = try fixture.config()
        let cachedURL = "https://lab.example/cached/software.cfg"
        let cachedRelease = fixture.softwareRoot + "/" + StreamingDigest.md5Hex(of: cachedURL)
        try ReleaseTree.make(at: cachedRelease)
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", cachedURL).status, 0)
        try FileManager.default.removeItem(atPath: cachedRelease)

        // A stand-in for `slapos node software` that builds whatever is missing and logs its arguments.
        let fakeSlapos = fixture.directory.appendingPathComponent("slapos").path
        let calls = fixture.directory.appendingPathComponent("calls").path
        try """
            #!/bin/sh
            echo "$@" >> \(calls)
            mkdir -p \(fixture.release)/bin && echo built > \(fixture.release)/bin/program
            """.write(toFile: fakeSlapos, atomically: true, encoding: .utf8)
        chmod(fakeSlapos, 0o755)
        let result = try NetcacheTests.run(
            URL(fileURLWithPath: slapgridFixtures + "/netcache-node-software"),
            [config, cachedURL, fixture.softwareURL, "--", "--all"],
            environment: ["NETCACHE_BIN": Binaries.netcache.path, "SLAPOS_BIN": fakeSlapos])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: calls, encoding: .utf8), "node software --cfg \(config) --all\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cachedRelease + "/bin/run"), "cached release not installed")
        XCTAssertTrue(result.output.contains("published: netcache:\(fixture.md5) chunks"), result.output)
        XCTAssertFalse(result.output.contains("published: netcache:\(StreamingDigest.md5Hex(of: cachedURL))"), result.output)
    }
}
