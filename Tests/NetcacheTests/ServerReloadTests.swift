import Foundation
import HummingbirdBcrypt
import NetcacheClient
import NetcacheProtocol
import XCTest

/// SIGHUP rereads the TLS certificate and key, the client CA and CRLs and the basic auth
/// file, without dropping connections; a reload that fails keeps the previous settings.
final class ServerReloadTests: XCTestCase {
    var pki: TestPKI!
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        pki = TestPKI(directory: directory)
        try pki.authority("ca")
        try pki.certificate("server", signedBy: "ca", extensions: "subjectAltName=IP:127.0.0.1\n")
        try pki.certificate("uploader", signedBy: "ca")
        try pki.certificate("other-uploader", signedBy: "ca")
    }

    private func path(_ name: String) -> String { pki.path(name) }

    private func tlsServer() throws -> ServerProcess {
        try ServerProcess(
            arguments: ["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--client-ca", path("ca.pem"),
                        "--client-crl", try pki.crl(of: "ca")],
            dataDirectory: directory)
    }

    private func tls(_ client: String?, trusting ca: String = "ca") -> TLSSettings {
        TLSSettings(caFile: path("\(ca).pem"), certificateFile: client.map { path("\($0).pem") }, keyFile: client.map { path("\($0).key") })
    }

    private func upload(_ bytes: [UInt8], to server: ServerProcess, as client: String) throws -> TestResponse {
        try TestHTTP.request("POST", server.shacacheURL, body: bytes, tls: tls(client))
    }

    func testANewlyRevokedCertificateIsRefusedAfterAReloadWhileADownloadGoesOn() throws {
        let server = try tlsServer()
        var blob = [UInt8](repeating: 0, count: 64 << 20)
        for index in stride(from: 0, to: blob.count, by: 4096) { blob[index] = UInt8(truncatingIfNeeded: index >> 12) }
        let stored = try upload(blob, to: server, as: "uploader")
        XCTAssertEqual(stored.status, 201)

        // A download that stalls after its first bytes, its connection open across the reload.
        let started = DispatchSemaphore(value: 0)
        let resume = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var download: Result<TestResponse, Error>?
        let finished = DispatchSemaphore(value: 0)
        let url = server.shacacheURL + "/" + stored.text
        let downloadTLS = tls(nil)
        Thread {
            var stalled = false
            download = Result {
                try TestHTTP.request("GET", url, tls: downloadTLS) { _ in
                    guard !stalled else { return }
                    stalled = true
                    started.signal()
                    resume.wait()
                }
            }
            finished.signal()
        }.start()
        XCTAssertEqual(started.wait(timeout: .now() + 30), .success)

        try pki.revoke("uploader", by: "ca")
        try pki.crl(of: "ca")
        XCTAssertTrue(try server.reload().contains("SIGHUP: reread --tls-cert, --tls-key, --client-ca, --client-crl"), server.log)
        let refused = try upload(Array("after revocation".utf8), to: server, as: "uploader")
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(refused.text.contains("certificate revoked"), refused.text)
        XCTAssertEqual(try upload(Array("still trusted".utf8), to: server, as: "other-uploader").status, 201)

        resume.signal()
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success)
        let response = try XCTUnwrap(download).get()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, blob.count)
        XCTAssertTrue(response.body == blob)
    }

    func testAReloadChangesTheServerCertificateForNewConnections() throws {
        let server = try tlsServer()
        let address = server.shacacheURL + "/" + String(repeating: "0", count: 128)
        try pki.authority("new-ca")
        try pki.certificate("new-server", signedBy: "new-ca", extensions: "subjectAltName=IP:127.0.0.1\n")
        XCTAssertThrowsError(try TestHTTP.request("GET", address, tls: tls(nil, trusting: "new-ca")))

        for file in ["pem", "key"] {
            try FileManager.default.removeItem(atPath: path("server.\(file)"))
            try FileManager.default.copyItem(atPath: path("new-server.\(file)"), toPath: path("server.\(file)"))
        }
        XCTAssertTrue(try server.reload().contains("SIGHUP: reread"), server.log)
        XCTAssertEqual(try TestHTTP.request("GET", address, tls: tls(nil, trusting: "new-ca")).status, 404)
        XCTAssertThrowsError(try TestHTTP.request("GET", address, tls: tls(nil, trusting: "ca")))
    }

    func testAFailedReloadKeepsThePreviousSettingsAndSaysWhy() throws {
        try pki.certificate("former-uploader", signedBy: "ca")
        try pki.revoke("former-uploader", by: "ca")
        let server = try tlsServer()
        let crl = try String(contentsOfFile: path("ca.crl"), encoding: .utf8)

        try "not a CRL\n".write(toFile: path("ca.crl"), atomically: true, encoding: .utf8)
        let failure = try server.reload()
        XCTAssertTrue(failure.hasSuffix("] SIGHUP: reload failed, keeping the previous settings: --client-crl \(path("ca.crl")): no CRL in it"), failure)
        XCTAssertEqual(try upload(Array("refused".utf8), to: server, as: "former-uploader").status, 403)
        XCTAssertEqual(try upload(Array("accepted".utf8), to: server, as: "uploader").status, 201)

        try crl.write(toFile: path("ca.crl"), atomically: true, encoding: .utf8)
        try openssl("genrsa", "-out", path("server.key"), "2048")
        XCTAssertTrue(try server.reload().contains("SIGHUP: reload failed, keeping the previous settings: cannot use --tls-cert"), server.log)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "0", count: 128), tls: tls(nil)).status, 404)
        XCTAssertEqual(try upload(Array("refused again".utf8), to: server, as: "former-uploader").status, 403)
    }

    func testAReloadRereadsTheBasicAuthFile() throws {
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("old", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path], dataDirectory: directory)
        func upload(_ user: String, _ password: String) throws -> Int {
            let url = server.shacacheURL.replacingOccurrences(of: "http://", with: "http://\(user):\(password)@")
            return try TestHTTP.request("POST", url, body: Array("\(user) \(password)".utf8)).status
        }
        XCTAssertEqual(try upload("node", "old"), 201)
        XCTAssertEqual(try upload("builder", "new"), 403)

        try "builder:\(Bcrypt.hash("new", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        XCTAssertTrue(try server.reload().contains("SIGHUP: reread --basic-auth-file"), server.log)
        XCTAssertEqual(try upload("builder", "new"), 201)
        XCTAssertEqual(try upload("node", "old"), 403)

        try "builder:plain-text\n".write(to: passwords, atomically: true, encoding: .utf8)
        XCTAssertTrue(try server.reload().contains("reload failed, keeping the previous settings: \(passwords.path):1: only bcrypt hashes"), server.log)
        XCTAssertEqual(try upload("builder", "new"), 201)
    }
}
