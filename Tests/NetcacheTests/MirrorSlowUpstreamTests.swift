import Foundation
import NetcacheClient
import XCTest

/// A mirror in front of a slow upstream: transfers trickling from it hold no thread, and
/// an unrelated miss does not wait behind them.
final class MirrorSlowUpstreamTests: XCTestCase {
    var upstream: ServerProcess!
    var mirror: ServerProcess!
    var stalled: [Int32] = []

    override func tearDown() {
        for socket in stalled { close(socket) }
        mirror?.stop()
        upstream?.stop()
    }

    private func blob(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private func upload(_ bytes: [UInt8]) throws -> String {
        let response = try TestHTTP.request("POST", upstream.shacacheURL, body: bytes)
        guard response.status == 201 else { throw TestFailure("upload: \(response.status)") }
        return response.text
    }

    /// 20 blobs trickling from upstream at 8 KiB/s (minutes each, above any low-speed
    /// limit), then a 4-byte blob nobody asked for yet: it answers at once.
    func testASmallMissIsAnsweredPromptlyBesideTwentyTricklingTransfers() throws {
        upstream = try ServerProcess()
        let slow = try (0..<20).map { try upload(blob(2 << 20, seed: UInt8($0))) }
        let small: [UInt8] = [1, 2, 3, 4]
        let smallSHA = try upload(small)
        let proxy = try TricklingProxy(upstream: upstream.url)
        mirror = try ServerProcess(arguments: ["--upstream-cache", proxy.url + "/shacache", "--upstream-dir", proxy.url + "/shadir", "--shutdown-grace", "1"])

        for sha512 in slow { stalled.append(try RawSocket.openStalledDownload(url: mirror.shacacheURL + "/" + sha512)) }
        // Every transfer the mirror could start has reached upstream: 16 on a pool of 16
        // threads, all 20 without one.
        try waitUntil { proxy.connections >= 16 }
        Thread.sleep(forTimeInterval: 1)

        let started = Date()
        let answer = try TestHTTP.request("GET", mirror.shacacheURL + "/" + smallSHA)
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.body, small)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the small miss waited behind the slow transfers")
        XCTAssertEqual(proxy.connections, 21, "every slow transfer runs at once")
    }

    /// The transfers' TLS means what libcurl's did: `--upstream-ca` replaces the system's
    /// CAs, and `--upstream-cert` and `--upstream-key` are presented to an upstream that
    /// only serves its clients (1024-bit server key, as deployed ones have).
    func testBlobsComeFromAnHTTPSUpstreamThatNeedsTheMirrorsCertificate() throws {
        let directory = try TemporaryDirectory.make()
        let pki = TestPKI(directory: directory)
        try pki.authority("ca")
        try pki.certificate("server", signedBy: "ca", bits: 1024, extensions: "subjectAltName=IP:127.0.0.1\n")
        try pki.certificate("mirror", signedBy: "ca")
        upstream = try ServerProcess(
            arguments: ["--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"), "--client-ca", pki.path("ca.pem"), "--private-downloads"],
            dataDirectory: directory)
        let tls = TLSSettings(caFile: pki.path("ca.pem"), certificateFile: pki.path("mirror.pem"), keyFile: pki.path("mirror.key"))
        let bytes = blob(300_000, seed: 40)
        let uploaded = try TestHTTP.request("POST", upstream.shacacheURL, body: bytes, tls: tls)
        XCTAssertEqual(uploaded.status, 201)
        let base = ["--upstream-cache", upstream.shacacheURL, "--upstream-dir", upstream.shadirURL, "--upstream-ca", pki.path("ca.pem")]
        mirror = try ServerProcess(arguments: base + ["--upstream-cert", pki.path("mirror.pem"), "--upstream-key", pki.path("mirror.key")])
        let fetched = try TestHTTP.request("GET", mirror.shacacheURL + "/" + uploaded.text)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertTrue(fetched.body == bytes)
        mirror.stop()

        // Without the certificate, upstream refuses, and so does the mirror.
        mirror = try ServerProcess(arguments: base)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + String(repeating: "0f", count: 64)).status, 502)
    }
}
