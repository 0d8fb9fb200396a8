import Foundation
import NetcacheProtocol
import Synchronization
import XCTest

/// `serve --upstream-push`: what upstream refuses for good is set aside and the queue goes
/// on; what fails for now keeps its place; a stop does not wait for retries.
final class MirrorPushTests: XCTestCase {
    var upstream: ServerProcess?
    var mirror: ServerProcess?

    override func tearDown() {
        mirror?.stop()
        upstream?.stop()
    }

    private func startMirror(of base: String, _ arguments: [String] = [], home: URL? = nil) throws -> ServerProcess {
        let started = try ServerProcess(
            arguments: ["--upstream-cache", base + "/shacache", "--upstream-dir", base + "/shadir", "--upstream-push"] + arguments, dataDirectory: home)
        mirror = started
        return started
    }

    private func blob(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private func upload(_ bytes: [UInt8], to server: ServerProcess) throws -> String {
        let response = try TestHTTP.request("POST", server.shacacheURL, body: bytes)
        guard response.status == 201 else { throw TestFailure("upload: \(response.status)") }
        return response.text
    }

    private func entry(_ sha512: String, _ n: Int) -> [UInt8] {
        Array(JSONValue.array([.string("{\"sha512\": \"\(sha512)\", \"n\": \(n)}"), .string("")]).pythonJSON.utf8)
    }

    /// An entry upstream refuses (403: unsigned, upstream trusts a certificate) and a blob
    /// larger than upstream takes (413) are set aside; the uploads after them reach upstream.
    func testAnUploadUpstreamRefusesForGoodIsSetAsideAndTheQueueGoesOn() throws {
        let directory = try TemporaryDirectory.make()
        let key = directory.appendingPathComponent("signer.key").path
        let certificate = directory.appendingPathComponent("signer.crt").path
        XCTAssertEqual(try netcache("keygen", key, "signer", "--cert-file", certificate).status, 0)
        let upstream = try ServerProcess(arguments: ["--trusted-certificates", certificate, "--max-upload-size", "4K"])
        self.upstream = upstream
        let mirror = try startMirror(of: upstream.url, ["--upstream-backoff", "1"])

        let large = blob(8 << 10, seed: 1)
        let largeSHA = try upload(large, to: mirror)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/refused:key", body: entry(largeSHA, 1)).status, 201)
        let small = blob(1000, seed: 2)
        let smallSHA = try upload(small, to: mirror)

        try waitUntil(timeout: 30) { try TestHTTP.request("GET", upstream.shacacheURL + "/" + smallSHA).status == 200 }
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + smallSHA).body == small)
        XCTAssertEqual(try TestHTTP.request("GET", upstream.shacacheURL + "/" + largeSHA).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", upstream.shadirURL + "/refused:key").status, 404)

        let listed = try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let lines = listed.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.map { [$0[0], $0[2], $0[3], $0[4]] }, [["1", "413", "blob", largeSHA], ["2", "403", "entry", "refused:key"]], listed.output)
        let json = try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path, "--json")
        XCTAssertTrue(json.output.contains("\"body\": "), json.output)
        XCTAssertEqual(try mirror.metric("netcache_upstream_push_refused"), 2)
        XCTAssertTrue(mirror.log.contains("upstream refused the blob \(largeSHA) for good"), mirror.log)
        XCTAssertTrue(mirror.log.contains("upstream refused the entry under refused:key for good"), mirror.log)
        // Kept here, still served.
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + largeSHA).body == large)
    }

    /// A refusal fixed upstream (here a size limit raised): `--requeue` puts the upload
    /// back, and the running mirror forwards it without another upload to wake it.
    func testARequeuedRefusalReachesUpstreamOnceItTakesIt() throws {
        let limited = try ServerProcess(arguments: ["--max-upload-size", "4K"])
        let port = try RawSocket.port(of: limited.url)
        upstream = limited
        let mirror = try startMirror(of: limited.url, ["--upstream-backoff", "1"])
        let large = blob(8 << 10, seed: 3)
        let largeSHA = try upload(large, to: mirror)
        try waitUntil(timeout: 30) { try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path).output.contains(largeSHA) }

        limited.stop()
        let raised = try ServerProcess(arguments: ["--listen", "127.0.0.1:\(port)"])
        upstream = raised
        let requeued = try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path, "--requeue")
        XCTAssertEqual(requeued.output, "requeued 1 upload(s)\n", requeued.stderr)
        try waitUntil(timeout: 30) { try TestHTTP.request("GET", raised.shacacheURL + "/" + largeSHA).status == 200 }
        XCTAssertTrue(try TestHTTP.request("GET", raised.shacacheURL + "/" + largeSHA).body == large)
        XCTAssertEqual(try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path).output, "")
        try waitUntil(timeout: 10) { try mirror.metric("netcache_upstream_push_refused") == 0 }
    }

    /// Upstream answering 503 fails for now: nothing is set aside, and once upstream takes
    /// uploads again they arrive in upload order.
    func testUploadsUpstreamRefusesForNowKeepTheirOrder() throws {
        let unavailable = try UnavailableUpstream()
        let port = try RawSocket.port(of: unavailable.url)
        let mirror = try startMirror(of: unavailable.url, ["--upstream-backoff", "1"])
        let first = blob(3000, seed: 3)
        let firstSHA = try upload(first, to: mirror)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/ordered:key", body: entry(firstSHA, 1)).status, 201)
        let second = blob(4000, seed: 4)
        let secondSHA = try upload(second, to: mirror)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/ordered:key", body: entry(secondSHA, 2)).status, 201)
        try waitUntil(timeout: 30) { unavailable.requests >= 3 }
        unavailable.stop()
        XCTAssertEqual(try netcache("admin", "push-refused", "--data", mirror.dataDirectory.path).output, "")

        let upstream = try ServerProcess(arguments: ["--listen", "127.0.0.1:\(port)"])
        self.upstream = upstream
        try waitUntil(timeout: 30) { (try? ShadirListing.parse(try TestHTTP.request("GET", upstream.shadirURL + "/ordered:key").body))?.count == 2 }
        XCTAssertEqual(
            try TestHTTP.request("GET", upstream.shadirURL + "/ordered:key").text,
            "[" + String(decoding: entry(firstSHA, 1), as: UTF8.self) + ", " + String(decoding: entry(secondSHA, 2), as: UTF8.self) + "]")
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + firstSHA).body == first)
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + secondSHA).body == second)
        XCTAssertEqual(try mirror.metric("netcache_upstream_push_refused"), 0)
    }

    /// What upstream could not take before the mirror stopped is forwarded by the next
    /// mirror on the same data directory.
    func testTheQueueOutlivesARestart() throws {
        let down = try SilentListener.closedPortURL()
        let home = try TemporaryDirectory.make()
        let first = try startMirror(of: down, ["--upstream-backoff", "30"], home: home)
        let bytes = blob(2500, seed: 6)
        let sha512 = try upload(bytes, to: first)
        XCTAssertEqual(try TestHTTP.request("PUT", first.shadirURL + "/restarted:key", body: entry(sha512, 1)).status, 201)
        try waitUntil { first.log.contains("forwarding upstream failed") }
        first.stop()

        let upstream = try ServerProcess(arguments: ["--listen", "127.0.0.1:\(try RawSocket.port(of: down))"])
        self.upstream = upstream
        XCTAssertEqual(try TestHTTP.request("GET", upstream.shadirURL + "/restarted:key").status, 404)
        _ = try startMirror(of: upstream.url, ["--upstream-backoff", "1"], home: home)
        try waitUntil(timeout: 30) { try TestHTTP.request("GET", upstream.shadirURL + "/restarted:key").status == 200 }
        XCTAssertEqual(try TestHTTP.request("GET", upstream.shadirURL + "/restarted:key").body, Array("[".utf8) + entry(sha512, 1) + Array("]".utf8))
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + sha512).body == bytes)
    }

    /// SIGTERM waits --shutdown-grace for transfers in flight, not for an upload waiting
    /// to be retried: that one stays queued for the next start.
    func testSIGTERMDoesNotWaitTheGraceForRetries() throws {
        let mirror = try startMirror(of: try SilentListener.closedPortURL(), ["--upstream-backoff", "30", "--shutdown-grace", "60"])
        _ = try upload(blob(2000, seed: 5), to: mirror)
        try waitUntil { mirror.log.contains("forwarding upstream failed") }
        let started = Date()
        mirror.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the stop waited for a retry")
    }
}

/// A loopback HTTP server that reads each request whole and answers 503: an upstream that
/// is up but cannot take anything for now.
private final class UnavailableUpstream: @unchecked Sendable {
    let url: String
    private let listener: Int32
    private let count = Mutex(0)

    init() throws {
        (listener, url) = try RawSocket.listenOnLoopback()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var requests: Int { count.withLock { $0 } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            Thread.detachNewThread { [self] in answer(client) }
        }
    }

    private func answer(_ client: Int32) {
        defer { close(client) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = received.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count - end.upperBound >= length { break }
            }
            let got = recv(client, &buffer, buffer.count, 0)
            if got <= 0 { return }
            received.append(contentsOf: buffer[..<got])
        }
        count.withLock { $0 += 1 }
        _ = RawSocket.sendAll(Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8), on: client)
        // The client hangs up first, so that no TIME_WAIT here keeps the port from a real
        // server started on it next.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while recv(client, &buffer, buffer.count, 0) > 0 {}
    }
}
