import Foundation
import XCTest

/// The bare routes say what they are, and a method a route does not take is a 405 that
/// names those it does, under `--base-path` as well.
final class RouteGuideTests: XCTestCase {
    func testBareRoutesSayWhatTheyAreAndOtherMethodsAre405() throws {
        for basePath in ["", "/cache"] {
            let server = try ServerProcess(arguments: basePath.isEmpty ? [] : ["--base-path", basePath])
            defer { server.stop() }
            let overview = try TestHTTP.request("GET", server.url + "/")
            XCTAssertEqual(overview.status, 200, basePath)
            XCTAssertEqual(overview.headers["content-type"], "text/plain; charset=utf-8")
            XCTAssertTrue(overview.text.hasPrefix("netcache: a SlapOS network cache.\nPOST /shacache "), overview.text)
            XCTAssertEqual(
                try TestHTTP.request("GET", server.shacacheURL).text,
                "shacache: POST /shacache stores a blob and answers its SHA-512; GET or HEAD /shacache/<sha512> serves it.\n")
            XCTAssertEqual(
                try TestHTTP.request("GET", server.shadirURL).text,
                "shadir: PUT /shadir/<key> files a signed entry; GET /shadir/<key> lists the entries under it.\n")

            let sha512 = String(repeating: "ab", count: 64)
            for (method, url, allow) in [
                ("PUT", server.shacacheURL + "/" + sha512, "GET, HEAD"), ("DELETE", server.shacacheURL + "/" + sha512, "GET, HEAD"),
                ("PUT", server.shacacheURL, "GET, POST"), ("DELETE", server.shadirURL + "/test:key", "GET, PUT"),
                ("POST", server.shadirURL + "/test:key", "GET, PUT"),
            ] {
                let answer = try TestHTTP.request(method, url, body: method == "DELETE" ? nil : [1])
                XCTAssertEqual(answer.status, 405, "\(method) \(url)")
                XCTAssertEqual(answer.headers["allow"], allow, "\(method) \(url)")
                XCTAssertEqual(answer.text, "\(method) is not allowed here: \(allow)\n")
            }
            XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha512).status, 404)
        }
    }
}
