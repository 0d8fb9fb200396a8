import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

final class ShadirServerTests: XCTestCase {
    var server: ServerProcess!

    override func setUpWithError() throws {
        server = try ServerProcess()
    }

    override func tearDown() {
        server.stop()
    }

    private let sha = String(repeating: "ab", count: 64)

    private func body(info: String, signature: String = "") -> [UInt8] {
        Array(JSONValue.array([.string(info), .string(signature)]).pythonJSON.utf8)
    }

    func testEntriesAccumulateInInsertionOrderAndIdenticalOnesOnce() throws {
        let key = "file-urlmd5:0123=abc"
        let first = body(info: "{\"sha512\": \"\(sha)\", \"url\": \"http://a\"}", signature: "c2ln")
        let second = body(info: "{\"sha512\": \"\(sha)\", \"url\": \"http://b\"}")
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/" + key, headers: ["Content-Type: application/json"], body: first).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/" + key, body: second).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/" + key, body: first).status, 201)

        let listing = try TestHTTP.request("GET", server.shadirURL + "/" + key)
        XCTAssertEqual(listing.status, 200)
        XCTAssertEqual(listing.headers["content-type"], "application/json")
        XCTAssertEqual(listing.text, "[" + String(decoding: first, as: UTF8.self) + ", " + String(decoding: second, as: UTF8.self) + "]")
        let entries = try ShadirListing.parse(listing.body)
        XCTAssertEqual(entries.map(\.info), ["{\"sha512\": \"\(sha)\", \"url\": \"http://a\"}", "{\"sha512\": \"\(sha)\", \"url\": \"http://b\"}"])
        XCTAssertEqual(entries.map(\.signature), ["c2ln", ""])
    }

    /// Upstream sends keys raw (`file-urlmd5:<md5>`, `pypi:name=1.0`); other clients
    /// escape `:` and `=`. Both name the same key, and netcache's client sends them raw.
    func testKeysRawAndEscapedAreOneKeyAndTheClientSendsThemRaw() throws {
        let entry = body(info: "{\"sha512\": \"\(sha)\"}")
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:slapos.core=1.26.1", body: entry).status, 201)
        let escaped = try TestHTTP.request("GET", server.shadirURL + "/pypi%3Aslapos.core%3D1.26.1")
        XCTAssertEqual(escaped.status, 200)
        XCTAssertEqual(escaped.text, "[" + String(decoding: entry, as: UTF8.self) + "]")

        let client = ShadirClient(downloadURL: server.shadirURL, uploadURL: server.shadirURL, tls: TLSSettings())
        XCTAssertEqual(try client.entries(for: "pypi:slapos.core=1.26.1").map(\.info), ["{\"sha512\": \"\(sha)\"}"])
        XCTAssertTrue(server.log.contains("GET /shadir/pypi:slapos.core=1.26.1 200"), server.log)
    }

    func testEntriesLiveInSQLiteInWALMode() throws {
        let body = body(info: "{\"sha512\": \"\(sha)\"}")
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/wal", body: body).status, 201)
        let database = server.dataDirectory.appendingPathComponent("shadir.sqlite").path
        let header = try XCTUnwrap(FileHandle(forReadingAtPath: database)).readData(ofLength: 20)
        XCTAssertEqual(header.prefix(16), Data("SQLite format 3\u{0}".utf8))
        // Bytes 18 and 19 are the file format versions: 2 means write-ahead logging.
        XCTAssertEqual(Array(header[18...19]), [2, 2])
    }

    func testUnknownKeyIs404() throws {
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/nothing:here").status, 404)
    }

    /// Listings are cached: a GET after a PUT must see the PUT, a miss included.
    func testAListingReadBeforeAPutShowsThePutAfterIt() throws {
        let key = server.shadirURL + "/cached:key"
        let first = body(info: "{\"sha512\": \"\(sha)\", \"n\": 1}")
        let second = body(info: "{\"sha512\": \"\(sha)\", \"n\": 2}")
        XCTAssertEqual(try TestHTTP.request("GET", key).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", key).status, 404)
        XCTAssertEqual(try TestHTTP.request("PUT", key, body: first).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", key).text, "[" + String(decoding: first, as: UTF8.self) + "]")
        XCTAssertEqual(try TestHTTP.request("PUT", key, body: second).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", key).body, Array("[".utf8) + first + Array(", ".utf8) + second + Array("]".utf8))
    }

    /// GETs racing PUTs of one key, all 80 reaching the server together: every PUT is filed,
    /// every GET answers a listing of PUT entries (or 404), and once all are answered a GET
    /// lists them all.
    func testListingsReadDuringPutsMissNone() throws {
        let key = server.shadirURL + "/racing:key"
        let entries = (0..<40).map { body(info: "{\"sha512\": \"\(sha)\", \"n\": \($0)}") }
        let infos = try Set(entries.map { try ShadirListing.parse(Array("[".utf8) + $0 + Array("]".utf8))[0].info })
        let requests = (0..<80).map { index in
            index % 2 == 0 ? SimultaneousRequests.Request(method: "PUT", url: key, body: entries[index / 2]) : SimultaneousRequests.Request(method: "GET", url: key)
        }
        let racing = try SimultaneousRequests(requests)
        try racing.release()
        let answers = try racing.answers()
        for (request, answer) in zip(requests, answers) {
            switch (request.method, answer.status) {
            case ("PUT", 201), ("GET", 404): continue
            case ("GET", 200): XCTAssertTrue(try Set(ShadirListing.parse(answer.body).map(\.info)).isSubset(of: infos), answer.text)
            default: XCTFail("\(request.method) answered \(answer.status): \(answer.text)")
            }
        }
        let listed = try ShadirListing.parse(try TestHTTP.request("GET", key).body)
        XCTAssertEqual(Set(listed.map(\.info)), infos)
        XCTAssertEqual(listed.count, 40)
    }

    func testASecondServerOnTheSameDataDirectoryRefusesToStart() throws {
        let result = try netcache("serve", "--listen", "127.0.0.1:0", "--data", server.dataDirectory.path)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasSuffix("data directory \(server.dataDirectory.path) is in use by another netcache serve\n"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/still:served").status, 404)
    }

    func testInfoBytesAreKeptExactly() throws {
        let info = "{\"sha512\":\"\(sha)\",  \"name\": \"caf\\u00e9\", \"n\": 1.50}"
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/k", body: body(info: info)).status, 201)
        let entries = try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/k").body)
        XCTAssertEqual(entries.first?.info, info)
    }

    func testMalformedBodiesAre400WithAReason() throws {
        let cases: [(String, String)] = [
            ("not JSON", "this is not json"),
            ("one element", "[\"{\\\"sha512\\\": \\\"\(sha)\\\"}\"]"),
            ("three elements", "[\"{\\\"sha512\\\": \\\"\(sha)\\\"}\", \"\", \"\"]"),
            ("not an array", "{\"sha512\": \"\(sha)\"}"),
            ("bad sha512", "[\"{\\\"sha512\\\": \\\"abc\\\"}\", \"\"]"),
            ("no sha512", "[\"{\\\"url\\\": \\\"x\\\"}\", \"\"]"),
            ("bad base64", "[\"{\\\"sha512\\\": \\\"\(sha)\\\"}\", \"not base64!\"]"),
            ("info not an object", "[\"[1, 2]\", \"\"]"),
            ("info not JSON", "[\"sha512\", \"\"]"),
            ("info not a string", "[{\"sha512\": \"\(sha)\"}, \"\"]"),
        ]
        for (name, text) in cases {
            let response = try TestHTTP.request("PUT", server.shadirURL + "/bad", body: Array(text.utf8))
            XCTAssertEqual(response.status, 400, name)
            XCTAssertFalse(response.text.isEmpty, "\(name): no reason given")
        }
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/bad").status, 404)
    }

    func testWrappedBase64SignaturesAreAccepted() throws {
        let wrapped = String(repeating: "QUJD", count: 19) + "\n" + String(repeating: "QUJD", count: 5)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/w", body: body(info: "{\"sha512\": \"\(sha)\"}", signature: wrapped)).status, 201)
    }
}

/// `--trusted-certificates`: only entries signed by one of them are filed.
final class TrustedCertificatesTests: XCTestCase {
    func testOnlyEntriesSignedByATrustedKeyAreFiled() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trusted = try KeyGenerator.generate(commonName: "builder", bits: 2048)
        let stranger = try KeyGenerator.generate(commonName: "stranger", bits: 2048)
        let certificates = directory.appendingPathComponent("trusted.pem").path
        try trusted.certificatePEM.write(toFile: certificates, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--trusted-certificates", certificates], dataDirectory: directory)
        defer { server.stop() }

        let info = "{\"sha512\": \"\(String(repeating: "cd", count: 64))\", \"url\": \"https://lab.example/a.tar.gz\"}"
        func put(_ key: String, signature: String) throws -> TestResponse {
            let body = Array(JSONValue.array([.string(info), .string(signature)]).pythonJSON.utf8)
            return try TestHTTP.request("PUT", server.shadirURL + "/" + key, body: body)
        }
        let signed = try SigningKey(pem: Array(trusted.privateKeyPEM.utf8)).signature(of: info, under: "file-urlmd5:0")
        XCTAssertEqual(try put("trusted:signed", signature: signed).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/trusted:signed").status, 200)

        let unsigned = try put("trusted:unsigned", signature: "")
        XCTAssertEqual(unsigned.status, 403)
        XCTAssertTrue(unsigned.text.contains("does not verify against --trusted-certificates"), unsigned.text)
        let foreign = try SigningKey(pem: Array(stranger.privateKeyPEM.utf8)).signature(of: info, under: "file-urlmd5:0")
        XCTAssertEqual(try put("trusted:foreign", signature: foreign).status, 403)
        for key in ["trusted:unsigned", "trusted:foreign"] {
            XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/" + key).status, 404, key)
        }

        // SIGHUP rereads the list: the stranger becomes trusted, the builder no longer is.
        try stranger.certificatePEM.write(toFile: certificates, atomically: true, encoding: .utf8)
        XCTAssertTrue(try server.reload().contains("SIGHUP: reread --trusted-certificates"), server.log)
        XCTAssertEqual(try put("trusted:foreign", signature: foreign).status, 201)
        XCTAssertEqual(try put("trusted:signed-again", signature: signed).status, 403)
    }

    func testAFileWithoutACertificateStopsTheServerFromStarting() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.pem").path
        try "# no certificate here\n".write(toFile: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ServerProcess(arguments: ["--trusted-certificates", empty], dataDirectory: directory)) { error in
            XCTAssertTrue("\(error)".contains("--trusted-certificates \(empty): no certificate in it"), "\(error)")
        }
        let broken = directory.appendingPathComponent("broken.pem").path
        try "-----BEGIN CERTIFICATE-----\nnot base64\n".write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ServerProcess(arguments: ["--trusted-certificates", broken], dataDirectory: directory)) { error in
            XCTAssertTrue("\(error)".contains("--trusted-certificates \(broken): no certificate in it (certificate #1 ignored"), "\(error)")
        }
    }
}
