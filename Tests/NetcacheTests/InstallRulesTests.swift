import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache
@testable import NetcacheClient

final class CompatibilityTests: XCTestCase {
    let machine = Fingerprint(
        os: OSRelease(id: "debian", version: "12", codename: "bookworm"), multiarch: "x86_64-linux-gnu",
        libc: ["glibc", "2.36"], softwareRoot: "/opt/slapgrid")

    private func entry(multiarch: String = "x86_64-linux-gnu", os: [String] = ["debian", "12", "bookworm"], root: String? = "/opt/slapgrid", libc: [String]? = ["glibc", "2.36"]) -> BinaryEntry {
        BinaryEntry(sha512: String(repeating: "a", count: 128), softwareURL: "u", softwareRoot: root, multiarch: multiarch, os: os, libc: libc, format: .zstd, size: nil, unpackedSize: nil, fileCount: nil)
    }

    func testRules() {
        XCTAssertEqual(Compatibility(entry: entry(), machine: machine), .compatible(warning: nil))
        XCTAssertFalse(Compatibility(entry: entry(multiarch: "aarch64-linux-gnu"), machine: machine).isCompatible)
        XCTAssertFalse(Compatibility(entry: entry(os: ["ubuntu", "22.04", "jammy"]), machine: machine).isCompatible)
        XCTAssertFalse(Compatibility(entry: entry(os: ["debian", "11", "bullseye"]), machine: machine).isCompatible)
        // Debian compares the major version only, ignores the codename; raspbian is debian.
        XCTAssertTrue(Compatibility(entry: entry(os: ["Debian", "12.4", ""]), machine: machine).isCompatible)
        XCTAssertTrue(Compatibility(entry: entry(os: ["raspbian", "12", "x"]), machine: machine).isCompatible)
        XCTAssertFalse(Compatibility(entry: entry(root: "/srv/slapgrid"), machine: machine).isCompatible)
        XCTAssertEqual(Compatibility(entry: entry(root: "/opt//slapgrid/."), machine: machine), .compatible(warning: nil), "one root, however it is spelt")
        XCTAssertEqual(Compatibility(entry: entry(root: nil), machine: machine), .compatible(warning: "entry does not record its software_root; assuming /opt/slapgrid"))
        XCTAssertFalse(Compatibility(entry: entry(libc: ["glibc", "2.37"]), machine: machine).isCompatible)
        XCTAssertFalse(Compatibility(entry: entry(libc: ["glibc", "2.36.1"]), machine: machine).isCompatible)
        XCTAssertTrue(Compatibility(entry: entry(libc: ["glibc", "2.31"]), machine: machine).isCompatible)
        XCTAssertTrue(Compatibility(entry: entry(libc: nil), machine: machine).isCompatible)
        XCTAssertFalse(Compatibility(entry: entry(libc: ["musl", "1.2"]), machine: machine).isCompatible)
        let ubuntu = Fingerprint(os: OSRelease(id: "ubuntu", version: "22.04", codename: "jammy"), multiarch: "x86_64-linux-gnu", libc: [], softwareRoot: "/opt/slapgrid")
        XCTAssertFalse(Compatibility(entry: entry(os: ["ubuntu", "22.04", ""]), machine: ubuntu).isCompatible)
        XCTAssertTrue(Compatibility(entry: entry(os: ["Ubuntu", "22.04", "jammy"]), machine: ubuntu).isCompatible)
    }

    func testOldEntryLayoutsAreRead() throws {
        let old = try XCTUnwrap(JSONValue(parsing: #"{"sha512": "\#(String(repeating: "b", count: 128))", "software_url": "u", "machine": "x86_64", "os": "('debian', '8.10', '')"}"#).objectValue)
        let entry = try XCTUnwrap(BinaryEntry(fields: old, legacyKey: true))
        XCTAssertEqual(entry.multiarch, "x86_64-linux-gnu")
        XCTAssertEqual(entry.os, ["debian", "8.10", ""])
        XCTAssertEqual(entry.format, .gzip)
        XCTAssertNil(entry.softwareRoot)
        let arm = try XCTUnwrap(JSONValue(parsing: #"{"sha512": "\#(String(repeating: "b", count: 128))", "machine": "armv7l", "os": "('debian', '8', '')"}"#).objectValue)
        XCTAssertNil(BinaryEntry(fields: arm, legacyKey: true))
    }

    func testOSReleaseParsingFollowsDistro() throws {
        let directory = try TemporaryDirectory.make()
        func release(_ text: String, debianVersion: String? = nil) throws -> [String] {
            try text.write(toFile: directory.path + "/os-release", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: directory.path + "/debian_version")
            if let debianVersion { try debianVersion.write(toFile: directory.path + "/debian_version", atomically: true, encoding: .utf8) }
            return OSRelease(etcDirectory: directory.path).tuple
        }
        XCTAssertEqual(try release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"), ["debian", "12", "bookworm"])
        XCTAssertEqual(try release("PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n", debianVersion: "trixie/sid\n"), ["debian", "trixie/sid", "trixie"])
        XCTAssertEqual(try release("NAME=\"Ubuntu\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nVERSION_ID=\"22.04\"\nUBUNTU_CODENAME=jammy\n"), ["ubuntu", "22.04", "jammy"])
        XCTAssertEqual(try release("NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"), ["rocky", "9.3", "Blue Onyx"])
        XCTAssertEqual(try release("ID=opensuse-leap\nVERSION_ID=\"15.5\"\n"), ["opensuse", "15.5", ""])
    }

    func testMultiarchWithoutACompiler() {
        XCTAssertEqual(Fingerprint.multiarch(forMachine: "x86_64"), "x86_64-linux-gnu")
        XCTAssertEqual(Fingerprint.multiarch(forMachine: "aarch64"), "aarch64-linux-gnu")
        XCTAssertEqual(Fingerprint.multiarch(forMachine: "armv7l"), "arm-linux-gnueabihf")
        XCTAssertEqual(Fingerprint.multiarch(forMachine: "i686"), "i386-linux-gnu")
    }
}

/// `netcache install`'s exit statuses: 0 installed, 3 build it, 1 error.
final class InstallExitStatusTests: XCTestCase {
    var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        try fixture.publishReleaseElsewhere()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    private func install(_ config: String, url: String? = nil) throws -> CommandResult {
        try netcache("install", "-c", config, "--software-url", url ?? fixture.softwareURL)
    }

    func testInstalledIs0() throws {
        XCTAssertEqual(try install(try fixture.config()).status, 0)
    }

    func testExistingReleaseDirectoryIs3AndUntouched() throws {
        try FileManager.default.createDirectory(atPath: fixture.release, withIntermediateDirectories: true)
        let result = try install(try fixture.config())
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(result.stderr, "netcache: not installed from the binary cache: \(fixture.release) is already there, installed or built before; nothing was changed\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.release), [])
    }

    func testBlacklistedIs3() throws {
        for key in ["download-from-binary-cache-url-blacklist", "binary-cache-url-blacklist"] {
            let result = try install(try fixture.config(extra: "\(key) =\n  https://lab.example/software/"))
            XCTAssertEqual(result.status, 3, key)
            XCTAssertTrue(result.stderr.contains("blacklisted"), result.stderr)
        }
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    func testUnconfiguredCacheIs3() throws {
        let config = fixture.directory.appendingPathComponent("bare.cfg").path
        try "[slapos]\nsoftware_root = \(fixture.softwareRoot)\n[networkcache]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try install(config)
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("not configured"), result.stderr)
    }

    func testEmptyTrustListIs3() throws {
        let config = try fixture.config(trusted: "")
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "signature-private-key-file = \(fixture.keyFile)\n", with: "")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try install(config)
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("signature-certificate-list is empty"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    func testUntrustedSignaturesAre3() throws {
        let stranger = try KeyGenerator.generate(commonName: "stranger", bits: 1024)
        let config = try fixture.config(trusted: stranger.certificatePEM)
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "signature-private-key-file = \(fixture.keyFile)\n", with: "")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try install(config)
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("signature not trusted"), result.stderr)
    }

    func testUnsignedEntriesAreIgnored() throws {
        let url = "https://lab.example/unsigned/software.cfg"
        let md5 = StreamingDigest.md5Hex(of: url)
        let info = NetworkCache.info(sha512: String(repeating: "c", count: 128), metadata: BinaryEntry(
            sha512: String(repeating: "c", count: 128), softwareURL: url, softwareRoot: fixture.softwareRoot,
            multiarch: Fingerprint.current(softwareRoot: "/").multiarch, os: OSRelease().tuple, libc: nil, format: .gzip,
            size: nil, unpackedSize: nil, fileCount: nil).metadata)
        let body = Array(JSONValue.array([.string(info), .string("")]).pythonJSON.utf8)
        XCTAssertEqual(try TestHTTP.request("PUT", fixture.server.shadirURL + "/" + md5, body: body).status, 201)
        let result = try install(try fixture.config(), url: url)
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("signature not trusted"), result.stderr)
    }

    func testNothingCompatibleIs3() throws {
        let result = try netcache("install", "-c", try fixture.config(), "--software-url", fixture.softwareURL, "--software-root", fixture.directory.appendingPathComponent("elsewhere").path)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("built for software_root \(fixture.softwareRoot)"), result.stderr)
    }

    func testForcedURLThatCannotBeInstalledIs1() throws {
        try FileManager.default.createDirectory(atPath: fixture.release, withIntermediateDirectories: true)
        let result = try install(try fixture.config(extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/"))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("binary cache forced"), result.stderr)
        let uncached = try install(try fixture.config(extra: "download-from-binary-cache-force-url-list =\n  https://lab.example/"), url: "https://lab.example/other.cfg")
        XCTAssertEqual(uncached.status, 1)
    }

    func testNotEnoughFreeSpaceIs1() throws {
        let result = try install(try fixture.config(slapos: "software_min_free_space = 1000000 T"))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("not enough space"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }
}
