import Foundation
import NetcacheProtocol
import XCTest

/// `binary-cache-compatibility = abi`: a tree built here installs on another distribution
/// when this machine has what its binaries need, and is refused, naming what is missing,
/// when it has not. The other distribution is /etc/os-release replaced in a private mount
/// namespace.
final class ABICompatibilityTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    var scratch: URL!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        scratch = try TemporaryDirectory.make()
        try CompiledRelease.make(at: fixture.release, scratch: scratch)
    }

    override func tearDown() {
        fixture?.server.stop()
    }

    private func publishAndRemove() throws {
        let published = try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: fixture.release)
    }

    /// `netcache install` as if this machine ran Fedora 40.
    private func installElsewhere(rule: String) throws -> CommandResult {
        let osRelease = scratch.appendingPathComponent("os-release").path
        try "ID=fedora\nVERSION_ID=\"40\"\nNAME=\"Fedora Linux\"\n".write(toFile: osRelease, atomically: true, encoding: .utf8)
        let config = try fixture.config(extra: "binary-cache-compatibility = \(rule)")
        let script = "mount --bind \"$1\" /etc/os-release && shift && exec \"$@\""
        return try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/unshare"), [
            "-m", "sh", "-c", script, "sh", osRelease, Binaries.netcache.path, "install", "-c", config, "--software-url", fixture.softwareURL,
        ])
    }

    private func abi() throws -> JSONObject {
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).body)
        return try XCTUnwrap(listing.first?.fields?["abi"]?.objectValue)
    }

    func testPublishRecordsWhatTheBinariesNeedFromOutsideTheTree() throws {
        try publishAndRemove()
        let abi = try abi()
        XCTAssertEqual(abi["class"], .string("ELF64"))
        XCTAssertEqual(abi["machine"], .string("x86_64"))
        let libraries = try XCTUnwrap(abi["libraries"]?.objectValue)
        XCTAssertEqual(libraries.members.map(\.key), ["libc.so.6", "libm.so.6"], "libdemo.so.1 is found in the tree through RUNPATH")
        for member in libraries.members {
            let versions = try XCTUnwrap(member.value.arrayValue?.compactMap(\.stringValue))
            XCTAssertEqual(versions.count, 1, "\(member.key): \(versions)")
            XCTAssertTrue(versions.allSatisfy { $0.hasPrefix("GLIBC_2.") }, "\(member.key): \(versions)")
        }
        let legacy = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + fixture.md5).body)
        XCTAssertNil(legacy.first?.fields?["abi"], "the legacy entry keeps SlapOS's fields")
    }

    func testTheTreeInstallsOnAnotherDistributionByABIAndNotByDistribution() throws {
        try publishAndRemove()
        let refused = try installElsewhere(rule: "distribution")
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("this machine runs fedora 40"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release))

        let installed = try installElsewhere(rule: "abi")
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let ran = try NetcacheTests.run(URL(fileURLWithPath: fixture.release + "/bin/demo"), [])
        XCTAssertEqual(ran.output, "44 hello from the tree\n", ran.stderr)
    }

    func testAMissingLibraryIsNamed() throws {
        try CompiledRelease.addProgramNeedingAMissingLibrary(at: fixture.release, scratch: scratch)
        try publishAndRemove()
        let refused = try installElsewhere(rule: "abi")
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("needs libgone.so.1, which this machine's loader does not find"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release))
    }

    func testAVersionThisCLibraryLacksIsNamed() throws {
        try CompiledRelease.addProgramNeedingAFutureGlibc(at: fixture.release)
        try publishAndRemove()
        let refused = try installElsewhere(rule: "abi")
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("needs GLIBC_2.99 of libc.so.6; "), refused.stderr)
        XCTAssertTrue(refused.stderr.contains(" has up to GLIBC_2."), refused.stderr)

        let lookup = try netcache("lookup", "binary-sr", "-c", try fixture.config(), fixture.softwareURL, "--json")
        let rows = try XCTUnwrap(try JSONValue(parsing: Array(lookup.stdout)).arrayValue)
        let zstd = try XCTUnwrap(rows.first { $0.objectValue?["format"] == .string("chunks") }?.objectValue)
        let rules = try XCTUnwrap(zstd["rules"]?.objectValue)
        XCTAssertEqual(rules["distribution"]?.objectValue?["compatible"], .bool(true))
        XCTAssertEqual(rules["abi"]?.objectValue?["compatible"], .bool(false))
        XCTAssertTrue(rules["abi"]?.objectValue?["why_not"]?.stringValue?.contains("GLIBC_2.99") ?? false, "\(rules)")
    }

    func testAnUnchangedTreePublishesByteIdenticalEntries() throws {
        let config = try fixture.config()
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let first = try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).text
        let again = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).text, first)
        XCTAssertEqual(fixture.server.storedBlobs().count, 3, "the two archives and the relocation manifest, each once")
    }
}
