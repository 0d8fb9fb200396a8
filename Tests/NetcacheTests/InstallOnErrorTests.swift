import Foundation
import NetcacheProtocol
import XCTest

/// `install --on-error build`, as the slapgrid wrapper runs it: an error installing a URL
/// that is not forced exits 3 ("build it") after its line, so that a broken cache never
/// stops the node; a forced URL, and a configuration that cannot be read, still fail.
final class InstallOnErrorTests: XCTestCase {
    private var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    /// A release published as chunks only, one of its chunks then corrupted in the store.
    private func publishCorruptRelease() throws {
        try ReleaseTree.make(at: fixture.release)
        let published = try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL, "--no-legacy")
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: fixture.release)
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).body)
        let indexSHA512 = try XCTUnwrap(listing.first?.fields?["sha512"]?.stringValue)
        let index = try ChunkIndex(decoding: try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + indexSHA512).body)
        let chunk = try XCTUnwrap(index.chunks.first?.blob)
        try Data("not the chunk".utf8).write(to: fixture.server.dataDirectory.appendingPathComponent("shacache/\(chunk.prefix(2))/\(chunk)"))
    }

    private func install(_ config: String, _ options: String...) throws -> CommandResult {
        try netcache(arguments: ["install", "-c", config, "--software-url", fixture.softwareURL] + options)
    }

    func testAnErrorMeansBuildItUnlessTheURLIsForced() throws {
        try publishCorruptRelease()
        let config = try fixture.config()

        let failed = try install(config)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertEqual(failed.stderr.split(separator: "\n").count, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.hasPrefix("netcache: error: GET ") && failed.stderr.contains(": invalid checksum: "), failed.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])

        let build = try install(config, "--on-error", "build")
        XCTAssertEqual(build.status, 3, build.stderr)
        XCTAssertEqual(build.stderr.split(separator: "\n").count, 1, build.stderr)
        XCTAssertEqual(build.stderr, "netcache: not installed from the binary cache: " + failed.stderr.dropFirst("netcache: error: ".count))
        XCTAssertEqual(build.output, "")
        XCTAssertEqual(try fixture.strayEntries(), [])

        let forced = try fixture.config(name: "forced.cfg", extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/")
        let forcedFailure = try install(forced, "--on-error", "build")
        XCTAssertEqual(forcedFailure.status, 1, forcedFailure.stderr)
        XCTAssertEqual(forcedFailure.stderr, failed.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])

        let unreadable = try install(fixture.directory.appendingPathComponent("missing.cfg").path, "--on-error", "build")
        XCTAssertEqual(unreadable.status, 1, unreadable.stderr)
        XCTAssertTrue(unreadable.stderr.hasPrefix("netcache: error: cannot read configuration file "), unreadable.stderr)
        XCTAssertEqual(unreadable.stderr.split(separator: "\n").count, 1, unreadable.stderr)

        let wrong = try install(config, "--on-error", "sometimes")
        XCTAssertEqual(wrong.status, 64, wrong.stderr)
        XCTAssertTrue(wrong.stderr.hasPrefix("netcache: error: the value 'sometimes' is invalid for '--on-error <fail|build>'"), wrong.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }
}
