import Foundation
import XCTest

/// What an operator reads when slapos.cfg or a command line is not what it should be.
final class OperatorMessagesTests: XCTestCase {
    func testAMisspeltKeyIsNamedWithTheKeyItWasMeantToBe() throws {
        let fixture = try BinaryCacheFixture()
        let config = try fixture.config(extra: "download-binary-dir-ur = \(fixture.server.shadirURL)\nbase = http://x\nupload-cache-url = %(base)s/shacache")
        let result = try netcache("lookup", "binary-sr", "-c", config, fixture.softwareURL)
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings, ["netcache: warning: \(config): [networkcache] download-binary-dir-ur is not a key netcache or SlapOS reads (did you mean download-binary-dir-url?); it is ignored"])
    }

    func testInstallDoesNotNeedThePrivateKeyAndAMisspeltTrustListIsSaid() throws {
        let fixture = try BinaryCacheFixture()
        try fixture.publishReleaseElsewhere()
        let text = try String(contentsOfFile: try fixture.config(), encoding: .utf8)
        let misspelt = fixture.directory.appendingPathComponent("misspelt.cfg").path
        try text.replacingOccurrences(of: "signature-certificate-list =", with: "signature-certificate-lis =").write(toFile: misspelt, atomically: true, encoding: .utf8)
        let installed = try netcache("install", "-c", misspelt, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 3, installed.stderr)
        XCTAssertTrue(installed.stderr.contains("[networkcache] signature-certificate-lis is not a key netcache or SlapOS reads (did you mean signature-certificate-list?)"), installed.stderr)
        XCTAssertFalse(installed.stderr.contains("private"), installed.stderr)

        // A private key nobody trusts stops a publish, and says what to add.
        try ReleaseTree.make(at: fixture.release)
        let published = try netcache("publish", "-c", misspelt, "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 1)
        XCTAssertTrue(
            published.stderr.contains("signature-private-key-file \(fixture.keyFile) does not match any certificate of signature-certificate-list: signature-certificate-list is empty or missing (is the key spelt right?); add the certificate `netcache keygen --cert-file` wrote for this key"),
            published.stderr)
    }
}
