import Foundation
import HummingbirdBcrypt
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

final class BasicAuthTests: XCTestCase {
    var server: ServerProcess!
    let blob = Array("secret-free content".utf8)

    override func setUpWithError() throws {
        let directory = try TemporaryDirectory.make()
        let passwords = directory.appendingPathComponent("htpasswd")
        try "# uploaders\nnode:\(Bcrypt.hash("right", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path], dataDirectory: directory)
    }

    override func tearDown() {
        server.stop()
    }

    private func url(_ credentials: String?) -> String {
        guard let credentials else { return server.shacacheURL }
        return server.shacacheURL.replacingOccurrences(of: "http://", with: "http://\(credentials)@")
    }

    func testUploadsNeedTheRightCredentials() throws {
        let missing = try TestHTTP.request("POST", url(nil), body: blob)
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.headers["www-authenticate"], "Basic realm=\"netcache\"")
        XCTAssertEqual(try TestHTTP.request("POST", url("node:wrong"), body: blob).status, 403)
        XCTAssertEqual(try TestHTTP.request("POST", url("nobody:right"), body: blob).status, 403)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/k", body: Array("[\"{}\", \"\"]".utf8)).status, 401)
        XCTAssertEqual(server.storedBlobs(), [])

        let accepted = try TestHTTP.request("POST", url("node:right"), body: blob)
        XCTAssertEqual(accepted.status, 201)
        XCTAssertEqual(accepted.text, StreamingDigest.sha512Hex(of: blob))
    }

    func testDownloadsStayPublic() throws {
        _ = try TestHTTP.request("POST", url("node:right"), body: blob)
        let response = try TestHTTP.request("GET", server.shacacheURL + "/" + StreamingDigest.sha512Hex(of: blob))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, blob)
    }

    func testTheClientTakesCredentialsFromTheURL() throws {
        let directory = try TemporaryDirectory.make()
        let path = directory.appendingPathComponent("f").path
        try Data(blob).write(to: URL(fileURLWithPath: path))
        let client = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: url("node:right"), tls: TLSSettings())
        XCTAssertEqual(try client.upload(file: path), StreamingDigest.sha512Hex(of: blob))
        let refused = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: url("node:bad-pass"), tls: TLSSettings())
        try Data(blob + [1]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try refused.upload(file: path)) { error in
            XCTAssertTrue("\(error)".contains("HTTP 403"), "\(error)")
            XCTAssertFalse("\(error)".contains("bad-pass"), "\(error)")
        }
    }
}

final class UploadPolicyTests: XCTestCase {
    func testLoopbackDefaultAcceptsAnonymousUploadsButNotThroughAProxy() throws {
        let server = try ServerProcess()
        let blob = Array("local".utf8)
        XCTAssertTrue(server.log.contains("anonymous, from this host only"), server.log)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, headers: ["X-Forwarded-For: 203.0.113.9"], body: blob).status, 403)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, headers: ["Forwarded: for=203.0.113.9"], body: blob).status, 403)
        XCTAssertEqual(server.storedBlobs(), [])
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
    }

    func testANetworkListenerWithoutCredentialsRefusesToStart() throws {
        let directory = try TemporaryDirectory.make()
        let result = try netcache("serve", "--listen", "0.0.0.0:0", "--data", directory.appendingPathComponent("d").path)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("refusing to serve uploads to the network without credentials"), result.stderr)
        XCTAssertEqual(result.output, "")
    }

    func testPrivateDownloadsNeedCredentials() throws {
        let directory = try TemporaryDirectory.make()
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("pw", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path, "--private-downloads"], dataDirectory: directory)
        let address = String(repeating: "0", count: 128)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + address).status, 401)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/pypi:any=1").status, 401)
        let authorised = server.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:pw@")
        XCTAssertEqual(try TestHTTP.request("GET", authorised + "/" + address).status, 404)
    }

    /// With nobody to tell apart, `--private-downloads` would lock everyone out, or (on
    /// loopback, or with anonymous uploads) let everyone in: either way, no start.
    func testPrivateDownloadsWithoutCredentialsRefuseToStart() throws {
        for extra in [[], ["--allow-anonymous-uploads"]] {
            let data = try TemporaryDirectory.make().appendingPathComponent("d").path
            let result = try NetcacheTests.run(Binaries.netcache, ["serve", "--listen", "127.0.0.1:0", "--data", data, "--private-downloads"] + extra, timeout: 30)
            XCTAssertEqual(result.status, 1, "\(extra)")
            XCTAssertEqual(result.stderr, "netcache: error: --private-downloads needs --basic-auth-file or --client-ca\n")
            XCTAssertEqual(result.output, "")
            XCTAssertFalse(FileManager.default.fileExists(atPath: data), "\(extra)")
        }
    }
}

/// TLS with client certificates, as production authorises uploaders.
final class ClientCertificateTests: XCTestCase {
    var pki: TestPKI!
    var server: ServerProcess!

    override func setUpWithError() throws {
        let directory = try TemporaryDirectory.make()
        pki = TestPKI(directory: directory)
        try pki.authority("ca")
        try pki.authority("rogue-ca")
        // 1024-bit server key: deployed servers have them and must stay reachable.
        try pki.certificate("server", signedBy: "ca", bits: 1024, extensions: "subjectAltName=IP:127.0.0.1\n")
        try pki.certificate("uploader", signedBy: "ca")
        try pki.certificate("intruder", signedBy: "rogue-ca")
        server = try ServerProcess(
            arguments: ["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--client-ca", path("ca.pem")],
            dataDirectory: directory)
    }

    override func tearDown() {
        server.stop()
    }

    private func path(_ name: String) -> String { pki.path(name) }

    private func tls(_ client: String?) -> TLSSettings {
        TLSSettings(caFile: path("ca.pem"), certificateFile: client.map { path("\($0).pem") }, keyFile: client.map { path("\($0).key") })
    }

    /// The port speaks TLS with the configured certificate: a client trusting its CA gets
    /// answers, one trusting another CA refuses the handshake, and plain HTTP gets none.
    func testServesHTTPSWithItsCertificate() throws {
        XCTAssertTrue(server.url.hasPrefix("https://127.0.0.1:"), server.url)
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health", tls: tls(nil)).text, "{\"status\": \"ready\"}\n")
        XCTAssertThrowsError(try TestHTTP.request("GET", server.url + "/health", tls: TLSSettings(caFile: path("rogue-ca.pem")))) { error in
            XCTAssertTrue("\(error)".contains("certificate"), "\(error)")
        }
        XCTAssertThrowsError(try TestHTTP.request("GET", server.url.replacingOccurrences(of: "https://", with: "http://") + "/health"))
    }

    func testUploadsNeedACertificateFromTheClientCA() throws {
        let blob = Array("release archive".utf8)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob, tls: tls(nil)).status, 401)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob, tls: tls("intruder")).status, 403)
        XCTAssertEqual(server.storedBlobs(), [])
        let accepted = try TestHTTP.request("POST", server.shacacheURL, body: blob, tls: tls("uploader"))
        XCTAssertEqual(accepted.status, 201)
        XCTAssertEqual(accepted.text, StreamingDigest.sha512Hex(of: blob))
        let anonymous = try TestHTTP.request("GET", server.shacacheURL + "/" + accepted.text, tls: tls(nil))
        XCTAssertEqual(anonymous.body, blob)
    }

    /// With a basic auth file too, a certificate the client CA did not sign is set aside
    /// and the request's basic credentials decide; a signed certificate needs none.
    func testARefusedCertificateFallsBackToBasicCredentials() throws {
        let directory = try TemporaryDirectory.make()
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("right", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let both = try ServerProcess(
            arguments: ["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--client-ca", path("ca.pem"), "--basic-auth-file", passwords.path],
            dataDirectory: directory)
        defer { both.stop() }
        let blob = Array("through basic credentials".utf8)
        let url = { (credentials: String) in both.shacacheURL.replacingOccurrences(of: "https://", with: "https://\(credentials)@") }

        let unsigned = try TestHTTP.request("POST", both.shacacheURL, body: blob, tls: tls("intruder"))
        XCTAssertEqual(unsigned.status, 401)
        XCTAssertEqual(unsigned.headers["www-authenticate"], "Basic realm=\"netcache\"")
        XCTAssertEqual(try TestHTTP.request("POST", url("node:wrong"), body: blob, tls: tls("intruder")).status, 403)
        XCTAssertEqual(both.storedBlobs(), [])
        let fallen = try TestHTTP.request("POST", url("node:right"), body: blob, tls: tls("intruder"))
        XCTAssertEqual(fallen.status, 201)
        XCTAssertEqual(fallen.text, StreamingDigest.sha512Hex(of: blob))
        let signed = try TestHTTP.request("POST", both.shacacheURL, body: Array("by certificate".utf8), tls: tls("uploader"))
        XCTAssertEqual(signed.status, 201)
        let posts = { both.log.split(separator: "\n").filter { $0.contains("POST /shacache 201") } }
        try waitUntil { posts().count == 2 }
        XCTAssertEqual(posts().filter { $0.contains("by user node") }.count, 1, both.log)
        XCTAssertEqual(posts().filter { $0.contains("by certificate") && $0.contains("CN=uploader") }.count, 1, both.log)
    }

    func testTheClientUsesTheServiceCertificatesFromSlaposCfg() throws {
        let config = """
            [networkcache]
            download-cache-url = \(server.shacacheURL)
            upload-cache-url = \(server.shacacheURL)
            download-dir-url = \(server.shadirURL)
            upload-dir-url = \(server.shadirURL)
            shacache-ca-file = \(path("ca.pem"))
            shacache-cert-file = \(path("uploader.pem"))
            shacache-key-file = \(path("uploader.key"))
            shadir-ca-file = \(path("ca.pem"))
            shadir-cert-file = \(path("uploader.pem"))
            shadir-key-file = \(path("uploader.key"))
            """
        try config.write(toFile: path("slapos.cfg"), atomically: true, encoding: .utf8)
        try Data("over TLS".utf8).write(to: URL(fileURLWithPath: path("payload")))
        let upload = try netcache("upload", "-c", path("slapos.cfg"), "--file", path("payload"), "--key", "tls:test", "kind=test")
        XCTAssertEqual(upload.status, 0, upload.stderr)
        let download = try netcache("download", "-c", path("slapos.cfg"), "--key", "tls:test")
        XCTAssertEqual(download.output, "over TLS")
    }
}

final class NetworkListenerTests: XCTestCase {
    func testAllowAnonymousUploadsOpensANetworkListener() throws {
        let server = try ServerProcess(arguments: ["--listen", "0.0.0.0:0", "--allow-anonymous-uploads"])
        XCTAssertTrue(server.log.contains("anonymous uploads allowed (--allow-anonymous-uploads)"), server.log)
        let port = try RawSocket.port(of: server.url)
        let response = try TestHTTP.request("POST", "http://127.0.0.1:\(port)/shacache", body: Array("open".utf8))
        XCTAssertEqual(response.status, 201)
    }
}
