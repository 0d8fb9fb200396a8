import Foundation
import NetcacheProtocol
import XCTest

final class ShacacheServerTests: XCTestCase {
    var server: ServerProcess!

    override func setUpWithError() throws {
        server = try ServerProcess()
    }

    override func tearDown() {
        server.stop()
    }

    private let content = Array("netcache shacache test content\n".utf8)
    private var sha512: String { StreamingDigest.sha512Hex(of: content) }

    func testUploadAnswers201WithTheHexDigestOnly() throws {
        let response = try TestHTTP.request("POST", server.shacacheURL, headers: ["Content-Type: application/octet-stream"], body: content)
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.text, sha512)
        XCTAssertEqual(response.body.count, 128)
    }

    func testDownloadServesExactBytesWithCacheHeaders() throws {
        _ = try TestHTTP.request("POST", server.shacacheURL, body: content)
        let response = try TestHTTP.request("GET", server.shacacheURL + "/" + sha512)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, content)
        XCTAssertEqual(response.headers["content-length"], String(content.count))
        XCTAssertEqual(response.headers["etag"], "\"\(sha512)\"")
        XCTAssertEqual(response.headers["accept-ranges"], "bytes")
        XCTAssertEqual(response.headers["cache-control"], "public, max-age=31536000, immutable")
        XCTAssertEqual(response.headers["content-type"], "application/octet-stream")

        let head = try TestHTTP.request("HEAD", server.shacacheURL + "/" + sha512)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(head.headers["content-length"], String(content.count))
        XCTAssertEqual(head.headers["etag"], "\"\(sha512)\"")
    }

    func testUnknownAndMalformedAddresses() throws {
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "ab", count: 64)).status, 404)
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + String(repeating: "ab", count: 64)).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/abc").status, 400)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "zz", count: 64)).status, 400)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "a", count: 129)).status, 400)
    }

    func testRangeRequests() throws {
        _ = try TestHTTP.request("POST", server.shacacheURL, body: content)
        let url = server.shacacheURL + "/" + sha512

        let tail = try TestHTTP.request("GET", url, headers: ["Range: bytes=9-"])
        XCTAssertEqual(tail.status, 206)
        XCTAssertEqual(tail.body, Array(content[9...]))
        XCTAssertEqual(tail.headers["content-range"], "bytes 9-\(content.count - 1)/\(content.count)")
        XCTAssertEqual(tail.headers["content-length"], String(content.count - 9))

        let middle = try TestHTTP.request("GET", url, headers: ["Range: bytes=2-5"])
        XCTAssertEqual(middle.status, 206)
        XCTAssertEqual(middle.body, Array(content[2...5]))

        let suffix = try TestHTTP.request("GET", url, headers: ["Range: bytes=-4"])
        XCTAssertEqual(suffix.status, 206)
        XCTAssertEqual(suffix.body, Array(content.suffix(4)))

        let beyond = try TestHTTP.request("GET", url, headers: ["Range: bytes=\(content.count)-"])
        XCTAssertEqual(beyond.status, 416)
        XCTAssertEqual(beyond.headers["content-range"], "bytes */\(content.count)")
    }

    func testIdenticalUploadsAreStoredOnce() throws {
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: content).text, sha512)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: content).text, sha512)
        XCTAssertEqual(server.storedBlobs().count, 1)
        XCTAssertEqual(server.stagedFiles(), [])
    }

    func testChunkedUploadIsAccepted() throws {
        let request = "POST /shacache HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let answer = try RawSocket.exchange(url: server.url, bytes: Array(request.utf8), readAnswer: true)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 201"), answer)
        XCTAssertTrue(answer.hasSuffix(StreamingDigest.sha512Hex(of: Array("hello world".utf8))), answer)
    }

    func testUploadCutInTheMiddleLeavesNothing() throws {
        let head = "POST /shacache HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n"
        _ = try RawSocket.exchange(url: server.url, bytes: Array(head.utf8) + [UInt8](repeating: 7, count: 300_000), readAnswer: false)
        try waitUntil { self.server.log.contains("POST /shacache") }
        XCTAssertEqual(server.storedBlobs(), [])
        XCTAssertEqual(server.stagedFiles(), [])
    }

    func testConnectionCloseIsEchoed() throws {
        _ = try TestHTTP.request("POST", server.shacacheURL, body: content)
        let answer = try RawSocket.exchange(
            url: server.url, bytes: Array("GET /shacache/\(sha512) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8), readAnswer: true)
        XCTAssertTrue(answer.lowercased().contains("\r\nconnection: close\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix(String(decoding: content, as: UTF8.self)))
        let notFound = try RawSocket.exchange(
            url: server.url, bytes: Array("GET /shacache/\(String(repeating: "0", count: 128)) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), readAnswer: true)
        XCTAssertTrue(notFound.hasPrefix("HTTP/1.1 404"), notFound)
        XCTAssertTrue(notFound.lowercased().contains("\r\nconnection: close\r\n"), notFound)
    }

    func testEveryRequestIsLoggedOnOneLine() throws {
        _ = try TestHTTP.request("POST", server.shacacheURL, body: content)
        _ = try TestHTTP.request("GET", server.shacacheURL + "/" + sha512)
        try waitUntil { self.server.log.contains("GET /shacache/\(self.sha512) 200 \(self.content.count) ") }
        XCTAssertTrue(server.log.contains("POST /shacache 201 "))
    }
}

final class UploadLimitTests: XCTestCase {
    /// A limit too large for 64 bits is a usage error, not a crash or a wrapped-round limit.
    func testAnUploadLimitThatOverflowsIsRefused() throws {
        for size in ["9999999999T", "9223372036854775807K", "1.5G", "12Q"] {
            let result = try netcache("serve", "--listen", "127.0.0.1:0", "--max-upload-size", size)
            XCTAssertEqual(result.status, 64, "\(size): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("'\(size)' is invalid for '--max-upload-size <size>'"), result.stderr)
        }
    }

    func testUploadsOverTheLimitGet413AndNothingIsKept() throws {
        let server = try ServerProcess(arguments: ["--max-upload-size", "1K"])
        let big = [UInt8](repeating: 1, count: 2048)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: big).status, 413)
        let chunked = "POST /shacache HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n800\r\n"
            + String(repeating: "a", count: 2048) + "\r\n0\r\n\r\n"
        let answer = try RawSocket.exchange(url: server.url, bytes: Array(chunked.utf8), readAnswer: true)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: Array(big.prefix(1024))).status, 201)
        XCTAssertEqual(server.storedBlobs().count, 1)
        XCTAssertEqual(server.stagedFiles(), [])
    }
}

/// Polls a condition the server reaches asynchronously (a log line, a cleanup).
func waitUntil(timeout: TimeInterval = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    throw TestFailure("condition not reached within \(timeout)s")
}

final class DroppedDownloadTests: XCTestCase {
    /// The Python client probes for blobs by starting a GET and hanging up: normal traffic.
    func testAClientHangingUpMidBodyIsLoggedAndHarmless() throws {
        let server = try ServerProcess()
        let blob = [UInt8](repeating: 42, count: 4 << 20)
        let sha512 = try TestHTTP.request("POST", server.shacacheURL, body: blob).text
        _ = try RawSocket.exchange(url: server.url, bytes: Array("GET /shacache/\(sha512) HTTP/1.1\r\nHost: x\r\n\r\n".utf8), readAnswer: false)
        try waitUntil { server.log.contains("(client went away)") }
        XCTAssertFalse(server.log.lowercased().contains("error"), server.log)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha512).body.count, blob.count)
    }
}
