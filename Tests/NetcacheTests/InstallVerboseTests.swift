import Foundation
import XCTest

@testable import NetcacheClient

/// `install --verbose`: every entry found, why each is or is not taken, the one installed.
final class InstallVerboseTests: XCTestCase {
    func testVerboseInstallSaysWhichEntryWasTakenAndWhyOthersWereNot() throws {
        let fixture = try BinaryCacheFixture()
        try fixture.publishReleaseElsewhere()
        let stranger = try KeyGenerator.generate(commonName: "stranger", bits: 2048).certificatePEM
        let untrusting = try fixture.config(name: "untrusting.cfg", trusted: stranger)
        let refused = try netcache("install", "-c", untrusting, "--software-url", fixture.softwareURL, "--verbose")
        XCTAssertEqual(refused.status, 3)
        let refusedLines = refused.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(refusedLines.first, "netcache: 2 entries for \(fixture.softwareURL) (\(fixture.md5)) in \(fixture.server.shadirURL)")
        XCTAssertEqual(refusedLines.filter { $0.hasSuffix(": not taken: signature not trusted") }.count, 2, refused.stderr)

        let installed = try netcache("install", "-c", try fixture.config(), "--software-url", fixture.softwareURL, "-v")
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let lines = installed.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6, installed.stderr)
        XCTAssertTrue(lines[1].hasPrefix("netcache: netcache:\(fixture.md5) chunks ") && lines[1].hasSuffix(": installable"), installed.stderr)
        XCTAssertTrue(lines[2].hasPrefix("netcache: \(fixture.md5) gzip ") && lines[2].hasSuffix(": installable"), installed.stderr)
        XCTAssertTrue(lines[3].hasPrefix("netcache: trying netcache:\(fixture.md5) chunks entry "), installed.stderr)
        XCTAssertTrue(lines[4].hasPrefix("netcache: 1 of 1 chunks fetched ("), installed.stderr)
        XCTAssertTrue(lines[5].hasPrefix("netcache: installed netcache:\(fixture.md5) chunks entry ") && lines[5].hasSuffix(" into \(fixture.release)"), installed.stderr)
    }
}
