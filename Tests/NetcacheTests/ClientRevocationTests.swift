import Foundation
import NetcacheClient
import NetcacheProtocol
import XCTest

/// Uploaders that are no longer trusted: revoked certificates, certificates for another
/// purpose, and chains through intermediate CAs.
final class ClientRevocationTests: XCTestCase {
    var pki: TestPKI!
    var directory: URL!
    let blob = Array("release archive".utf8)

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        pki = TestPKI(directory: directory)
        try pki.authority("ca")
        try pki.certificate("server", signedBy: "ca", extensions: "subjectAltName=IP:127.0.0.1\n")
    }

    private func path(_ name: String) -> String { pki.path(name) }

    /// A TLS server whose client CA is the file `clientCA` (the CA `ca` by default).
    private func server(clientCA: String? = nil, crls: [String] = []) throws -> ServerProcess {
        try ServerProcess(
            arguments: ["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--client-ca", clientCA ?? path("ca.pem")]
                + crls.flatMap { ["--client-crl", $0] },
            dataDirectory: directory)
    }

    private func upload(to server: ServerProcess, as client: String, certificateFile: String? = nil) throws -> TestResponse {
        let tls = TLSSettings(caFile: path("ca.pem"), certificateFile: certificateFile ?? path("\(client).pem"), keyFile: path("\(client).key"))
        return try TestHTTP.request("POST", server.shacacheURL, body: blob, tls: tls)
    }

    func testARevokedCertificateMayNotUpload() throws {
        try pki.certificate("uploader", signedBy: "ca")
        try pki.certificate("former-uploader", signedBy: "ca")
        try pki.revoke("former-uploader", by: "ca")
        let server = try server(crls: [try pki.crl(of: "ca")])
        let refused = try upload(to: server, as: "former-uploader")
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(refused.text.contains("certificate revoked"), refused.text)
        XCTAssertEqual(server.storedBlobs(), [])
        XCTAssertEqual(try upload(to: server, as: "uploader").status, 201)
    }

    func testACertificateOfAnIssuerWithoutACRLIsRefusedOnceCRLsAreGiven() throws {
        try pki.authority("other-ca")
        try pki.certificate("uploader", signedBy: "ca")
        let bundle = path("both-cas.pem")
        try (String(contentsOfFile: path("ca.pem"), encoding: .utf8) + String(contentsOfFile: path("other-ca.pem"), encoding: .utf8))
            .write(toFile: bundle, atomically: true, encoding: .utf8)
        try pki.certificate("unchecked", signedBy: "other-ca")
        let server = try server(clientCA: bundle, crls: [try pki.crl(of: "ca")])
        let refused = try upload(to: server, as: "unchecked")
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(refused.text.contains("unable to get certificate CRL"), refused.text)
        XCTAssertEqual(try upload(to: server, as: "uploader").status, 201)
    }

    func testAServerCertificateOfTheClientCAMayNotUpload() throws {
        try pki.certificate("web-server", signedBy: "ca", extensions: "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        try pki.certificate("uploader", signedBy: "ca", extensions: "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        let server = try server()
        let refused = try upload(to: server, as: "web-server")
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(refused.text.contains("unsuitable certificate purpose"), refused.text)
        XCTAssertEqual(server.storedBlobs(), [])
        XCTAssertEqual(try upload(to: server, as: "uploader").status, 201)
    }

    func testIntermediateCAsPresentedByTheClientAreUsed() throws {
        try pki.intermediate("team-ca", signedBy: "ca")
        try pki.certificate("uploader", signedBy: "team-ca")
        let server = try server()
        let withoutIntermediate = try upload(to: server, as: "uploader")
        XCTAssertEqual(withoutIntermediate.status, 403)
        XCTAssertTrue(withoutIntermediate.text.contains("unable to get local issuer certificate"), withoutIntermediate.text)
        let accepted = try upload(to: server, as: "uploader", certificateFile: try pki.chain("uploader", with: ["team-ca"]))
        XCTAssertEqual(accepted.status, 201)
        XCTAssertEqual(accepted.text, StreamingDigest.sha512Hex(of: blob))
    }

    func testARevokedIntermediateCAWithdrawsTheCertificatesItSigned() throws {
        try pki.intermediate("team-ca", signedBy: "ca")
        try pki.intermediate("other-team-ca", signedBy: "ca")
        try pki.certificate("uploader", signedBy: "team-ca")
        try pki.certificate("other-uploader", signedBy: "other-team-ca")
        try pki.revoke("team-ca", by: "ca")
        let server = try server(crls: [try pki.crl(of: "ca"), try pki.crl(of: "team-ca"), try pki.crl(of: "other-team-ca")])
        let refused = try upload(to: server, as: "uploader", certificateFile: try pki.chain("uploader", with: ["team-ca"]))
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(refused.text.contains("certificate revoked"), refused.text)
        let accepted = try upload(to: server, as: "other-uploader", certificateFile: try pki.chain("other-uploader", with: ["other-team-ca"]))
        XCTAssertEqual(accepted.status, 201)
    }

    func testAnUnreadableCRLStopsTheServerFromStarting() throws {
        try "not a CRL\n".write(toFile: path("broken.crl"), atomically: true, encoding: .utf8)
        let result = try netcache(
            "serve", "--listen", "127.0.0.1:0", "--data", path("data"), "--tls-cert", path("server.pem"), "--tls-key", path("server.key"),
            "--client-ca", path("ca.pem"), "--client-crl", path("broken.crl"))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasSuffix(": --client-crl \(path("broken.crl")): no CRL in it\n"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(result.output, "")
    }
}
