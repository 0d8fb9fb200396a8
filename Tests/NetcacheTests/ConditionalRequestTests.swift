import Foundation
import NetcacheProtocol
import XCTest

/// Conditional and range requests as RFC 9110 defines them: preconditions count only for
/// what exists (13.2.1), `If-Match` and `If-Range` compare strongly, `If-None-Match`
/// weakly, dates never validate (nothing has a `Last-Modified`), and ranges apply to GET.
final class ConditionalRequestTests: XCTestCase {
    var server: ServerProcess!
    let content = Array("0123456789abcdef".utf8)
    var sha512: String { StreamingDigest.sha512Hex(of: content) }
    var url: String { server.shacacheURL + "/" + sha512 }
    let missing = String(repeating: "ab", count: 64)

    override func setUpWithError() throws {
        server = try ServerProcess()
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: content).status, 201)
    }

    override func tearDown() {
        server.stop()
    }

    private func get(_ url: String, _ headers: String..., method: String = "GET") throws -> TestResponse {
        try TestHTTP.request(method, url, headers: headers)
    }

    private func assertWhole(_ answer: TestResponse, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(answer.status, 200, file: file, line: line)
        XCTAssertEqual(answer.body, content, file: file, line: line)
        XCTAssertNil(answer.headers["content-range"], file: file, line: line)
    }

    func testIfNoneMatchMatchesOnlyABlobThatExists() throws {
        for method in ["GET", "HEAD"] {
            XCTAssertEqual(try get(server.shacacheURL + "/" + missing, "If-None-Match: *", method: method).status, 404, method)
            XCTAssertEqual(try get(server.shacacheURL + "/" + missing, "If-None-Match: \"\(missing)\"", method: method).status, 404, method)
            let star = try get(url, "If-None-Match: *", method: method)
            XCTAssertEqual(star.status, 304, method)
            XCTAssertEqual(star.headers["etag"], "\"\(sha512)\"", method)
            XCTAssertEqual(star.body, [], method)
        }
        XCTAssertEqual(try get(url, "If-None-Match: \"\(sha512)\"").status, 304)
        // Weak comparison, lists, and several header lines.
        XCTAssertEqual(try get(url, "If-None-Match: W/\"\(sha512)\"").status, 304)
        XCTAssertEqual(try get(url, "If-None-Match: \"other\" ,\t\"\(sha512)\"").status, 304)
        XCTAssertEqual(try get(url, "If-None-Match: \"other\"", "If-None-Match: \"\(sha512)\"").status, 304)
        assertWhole(try get(url, "If-None-Match: \"other\""))
        // A tag may hold a comma: this one names something else, not the blob.
        assertWhole(try get(url, "If-None-Match: \"x,\(sha512)\""))
        // Not a list of tags: matches nothing.
        assertWhole(try get(url, "If-None-Match: \(sha512)"))
    }

    func testIfMatchComparesStrongly() throws {
        assertWhole(try get(url, "If-Match: \"\(sha512)\""))
        assertWhole(try get(url, "If-Match: *"))
        assertWhole(try get(url, "If-Match: \"other\", \"\(sha512)\""))
        XCTAssertEqual(try get(url, "If-Match: \"other\"").status, 412)
        XCTAssertEqual(try get(url, "If-Match: W/\"\(sha512)\"").status, 412)
        XCTAssertEqual(try get(url, "If-Match: \"other\"", method: "HEAD").status, 412)
        // A blob that is not here is 404 whatever the preconditions.
        XCTAssertEqual(try get(server.shacacheURL + "/" + missing, "If-Match: *").status, 404)
        // If-Match is evaluated first.
        XCTAssertEqual(try get(url, "If-Match: \"other\"", "If-None-Match: *").status, 412)
    }

    func testIfRangeDecidesBetweenThePartAndTheWhole() throws {
        let part = try get(url, "Range: bytes=2-5", "If-Range: \"\(sha512)\"")
        XCTAssertEqual(part.status, 206)
        XCTAssertEqual(part.body, Array(content[2...5]))
        XCTAssertEqual(part.headers["content-range"], "bytes 2-5/\(content.count)")
        assertWhole(try get(url, "Range: bytes=2-5", "If-Range: \"other\""))
        assertWhole(try get(url, "Range: bytes=2-5", "If-Range: W/\"\(sha512)\""))
        assertWhole(try get(url, "Range: bytes=2-5", "If-Range: Tue, 01 Dec 2026 10:00:00 GMT"))
        assertWhole(try get(url, "If-Range: \"\(sha512)\""))
    }

    func testDatePreconditionsAreIgnoredForWantOfALastModified() throws {
        assertWhole(try get(url, "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT"))
        assertWhole(try get(url, "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"))
    }

    func testRangesFollowTheGrammar() throws {
        // The unit is case-insensitive.
        let upper = try get(url, "Range: Bytes=0-1")
        XCTAssertEqual(upper.status, 206)
        XCTAssertEqual(upper.body, Array(content[0...1]))
        // Past any blob, however many digits: unsatisfiable.
        let huge = try get(url, "Range: bytes=99999999999999999999999-")
        XCTAssertEqual(huge.status, 416)
        XCTAssertEqual(huge.headers["content-range"], "bytes */\(content.count)")
        XCTAssertEqual(try get(url, "Range: bytes=-0").status, 416)
        // A suffix longer than the blob is the whole blob.
        let longSuffix = try get(url, "Range: bytes=-99999999999999999999999")
        XCTAssertEqual(longSuffix.status, 206)
        XCTAssertEqual(longSuffix.body, content)
        // Invalid ranges are ignored: the whole blob.
        for invalid in ["bytes=+1-2", "bytes=5-2", "bytes=1-2,4-5", "bytes= -", "items=0-1", "bytes=0x1-2"] {
            let answer = try get(url, "Range: \(invalid)")
            XCTAssertEqual(answer.status, 200, invalid)
            XCTAssertEqual(answer.body, content, invalid)
        }
    }

    /// Range handling is defined for GET only: a HEAD with a Range describes the whole blob.
    func testHeadIgnoresRange() throws {
        let head = try get(url, "Range: bytes=2-5", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], String(content.count))
        XCTAssertNil(head.headers["content-range"])
    }

    func testAnEmptyBlobHasNoSatisfiableRange() throws {
        let empty = try TestHTTP.request("POST", server.shacacheURL, body: [])
        XCTAssertEqual(empty.status, 201)
        let answer = try get(server.shacacheURL + "/" + empty.text, "Range: bytes=0-")
        XCTAssertEqual(answer.status, 416)
        XCTAssertEqual(answer.headers["content-range"], "bytes */0")
    }

    /// A listing has no tag: `*` matches a key with entries, a tag never does; a PUT with
    /// `If-None-Match: *` files only a key's first entry.
    func testShadirPreconditions() throws {
        let key = server.shadirURL + "/conditional:key"
        XCTAssertEqual(try get(key, "If-None-Match: *").status, 404)
        XCTAssertEqual(try TestHTTP.request("PUT", key, headers: ["If-Match: *"], body: entry("a")).status, 412)
        XCTAssertEqual(try get(key).status, 404)
        XCTAssertEqual(try TestHTTP.request("PUT", key, headers: ["If-None-Match: *"], body: entry("a")).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", key, headers: ["If-None-Match: *"], body: entry("b")).status, 412)
        XCTAssertEqual(try TestHTTP.request("PUT", key, headers: ["If-Match: *"], body: entry("c")).status, 201)
        let listing = try get(key)
        XCTAssertEqual(listing.status, 200)
        XCTAssertTrue(listing.text.contains(String(repeating: "a", count: 128)), listing.text)
        XCTAssertFalse(listing.text.contains(String(repeating: "b", count: 128)), listing.text)
        XCTAssertTrue(listing.text.contains(String(repeating: "c", count: 128)), listing.text)
        XCTAssertEqual(try get(key, "If-None-Match: *").status, 304)
        XCTAssertEqual(try get(key, "If-None-Match: \"tag\"").status, 200)
        XCTAssertEqual(try get(key, "If-Match: \"tag\"").status, 412)
        XCTAssertEqual(try get(key, "If-Match: *").status, 200)
    }

    private func entry(_ name: String) -> [UInt8] {
        Array(JSONValue.array([.string("{\"sha512\": \"\(String(repeating: name, count: 128))\"}"), .string("")]).pythonJSON.utf8)
    }
}
