import Foundation
import HummingbirdBcrypt
import XCTest

/// `GET /metrics`, parsed as the Prometheus text format.
final class MetricsTests: XCTestCase {
    /// Every sample: `name{labels}` to its value.
    private func samples(_ server: ServerProcess) throws -> [String: Double] {
        let answer = try TestHTTP.request("GET", server.url + "/metrics")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        var samples: [String: Double] = [:]
        for line in answer.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                XCTFail("not a sample: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    func testRequestsBytesDurationsAndTheStoreAreCounted() throws {
        let directory = try TemporaryDirectory.make()
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("secret", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path, "--private-downloads", "--metrics-census-interval", "1"], dataDirectory: directory)
        let authorised = server.url.replacingOccurrences(of: "http://", with: "http://node:secret@")
        let blob = Array(Interop.bytes(10_000, seed: 30))
        let sha = try TestHTTP.request("POST", authorised + "/shacache", body: blob).text
        XCTAssertEqual(try TestHTTP.request("GET", authorised + "/shacache/" + sha).body, blob)
        XCTAssertEqual(try TestHTTP.request("GET", authorised + "/shacache/" + String(repeating: "0", count: 128)).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha).status, 401)
        let entry = Array(#"["{\"sha512\": \"\#(sha)\"}", ""]"#.utf8)
        XCTAssertEqual(try TestHTTP.request("PUT", authorised + "/shadir/pypi:m=1", body: entry).status, 201)

        var samples: [String: Double] = [:]
        try waitUntil { samples = try self.samples(server); return samples["netcache_store_blobs"] == 1 }
        XCTAssertEqual(samples[#"netcache_requests_total{route="shacache",method="POST",status="201"}"#], 1)
        XCTAssertEqual(samples[#"netcache_requests_total{route="shacache",method="GET",status="200"}"#], 1)
        XCTAssertEqual(samples[#"netcache_requests_total{route="shacache",method="GET",status="404"}"#], 1)
        XCTAssertEqual(samples[#"netcache_requests_total{route="shacache",method="GET",status="401"}"#], 1)
        XCTAssertEqual(samples[#"netcache_requests_total{route="shadir",method="PUT",status="201"}"#], 1)
        XCTAssertEqual(samples[#"netcache_request_duration_seconds_count{route="shacache"}"#], 4)
        XCTAssertGreaterThanOrEqual(samples["netcache_received_bytes"] ?? 0, Double(blob.count + entry.count))
        XCTAssertGreaterThanOrEqual(samples["netcache_sent_bytes"] ?? 0, Double(blob.count + 128))
        XCTAssertEqual(samples["netcache_store_bytes"], Double(blob.count))
        XCTAssertEqual(samples["netcache_shadir_entries"], 1)
    }

    func testAMirrorCountsWhatUpstreamHadAndDidNotHave() throws {
        let upstream = try ServerProcess()
        let blob = Array(Interop.bytes(5000, seed: 31))
        let sha = try TestHTTP.request("POST", upstream.shacacheURL, body: blob).text
        let mirror = try ServerProcess(arguments: ["--upstream-cache", upstream.shacacheURL, "--upstream-dir", upstream.shadirURL])
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha).body, blob)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + String(repeating: "1", count: 128)).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/pypi:none=1").status, 404)
        var samples: [String: Double] = [:]
        try waitUntil { samples = try self.samples(mirror); return samples[#"netcache_upstream_total{kind="blob",outcome="miss"}"#] == 1 }
        XCTAssertEqual(samples[#"netcache_upstream_total{kind="blob",outcome="hit"}"#], 1)
        XCTAssertEqual(samples[#"netcache_upstream_total{kind="key",outcome="miss"}"#], 1)
    }
}
