import Foundation
import NetcacheProtocol
import XCTest

/// `netcache fetch` and `lookup url`: the download cache between a real origin and a real
/// server, each of which can be down.
final class DownloadCacheTests: XCTestCase {
    var directory: URL!
    var server: ServerProcess!
    var origin: OriginServer!
    var certificate = ""
    var key = ""

    let release = Array("release 1.0 source\n".utf8) + [UInt8](repeating: 7, count: 200_000)

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        server = try ServerProcess(dataDirectory: directory)
        origin = try OriginServer(root: directory.appendingPathComponent("origin"))
        try origin.serve("pkg-1.0.tar.gz", release)
        (key, certificate) = try keygen("builder")
    }

    override func tearDown() {
        server?.stop()
        origin?.stop()
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func keygen(_ name: String) throws -> (String, String) {
        let result = try netcache("keygen", path("\(name).key"), name, "--cert-file", path("\(name).crt"))
        guard result.status == 0 else { throw TestFailure(result.stderr) }
        return (path("\(name).key"), try String(contentsOfFile: path("\(name).crt"), encoding: .utf8))
    }

    /// A slapos.cfg with the download cache on `cache` (our server by default), uploads on
    /// or off, signing with `key` and trusting `trusted`.
    private func config(cache: String? = nil, uploads: Bool = true, key: String? = nil, trusted: [String]? = nil) throws -> String {
        let base = cache ?? server.url
        var text = "[networkcache]\ndownload-cache-url = \(base)/shacache\ndownload-dir-url = \(base)/shadir\n"
        if uploads { text += "upload-cache-url = \(base)/shacache\nupload-dir-url = \(base)/shadir\n" }
        text += "signature-private-key-file = \(key ?? self.key)\nsignature-certificate-list =\n"
        for line in (trusted ?? [certificate]).joined().split(separator: "\n") { text += "  \(line)\n" }
        let file = path("slapos-\(UUID().uuidString).cfg")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    private var url: String { origin.url + "/pkg-1.0.tar.gz" }

    private func md5(_ bytes: [UInt8]) -> String {
        let digest = StreamingDigest.md5()
        digest.update(bytes)
        return digest.finalize()
    }

    private func fetch(_ arguments: String...) throws -> CommandResult {
        try netcache(arguments: ["fetch"] + arguments)
    }

    private func contents(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(name)).map(Array.init)
    }

    /// Nothing but `expected` in the output directory: no staging file left behind.
    private func assertOnlyFiles(_ expected: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: path("out"))
        XCTAssertEqual(Set(names), expected, file: file, line: line)
    }

    private func outputPath(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        return path("out/\(name)")
    }

    func testAFileFromTheOriginIsFiledAndComesFromTheCacheOnceTheOriginIsDown() throws {
        let config = try config()
        let first = try fetch("-c", config, url, "-o", try outputPath("first"))
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.output, "\(path("out/first")): from the origin, filed in the cache\n")
        XCTAssertEqual(first.stderr, "")
        XCTAssertEqual(contents("out/first"), release)
        let sha512 = StreamingDigest.sha512Hex(of: release)
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/file-urlmd5:" + StreamingDigest.md5Hex(of: url)).body)
        XCTAssertEqual(listing.map(\.info), ["{\"sha512\": \"\(sha512)\", \"url\": \"\(url)\"}"])

        origin.stop()
        let second = try fetch("-c", config, url, "-o", try outputPath("second"))
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.output, "\(path("out/second")): from the cache\n")
        XCTAssertEqual(contents("out/second"), release)
        try assertOnlyFiles(["first", "second"])
    }

    func testTheDefaultNameIsTheURLsLastComponent() throws {
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        let result = try netcache(arguments: ["fetch", "-c", try config(), url], directory: URL(fileURLWithPath: path("out")))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(contents("out/pkg-1.0.tar.gz"), release)
    }

    func testACacheThatIsDownLeavesTheOriginWithOneWarning() throws {
        let dead = try SilentListener.closedPortURL()
        let result = try fetch("-c", try config(cache: dead), url, "-o", try outputPath("file"))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.output, "\(path("out/file")): from the origin\n")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines[0].hasPrefix("netcache: warning: cache unreachable (GET \(dead)/shadir/"), result.stderr)
        XCTAssertTrue(lines[1].hasPrefix("netcache: warning: fetched, but not filed in the cache:"), result.stderr)
        XCTAssertEqual(contents("out/file"), release)
    }

    func testBothDownIsOneLineAndNoFile() throws {
        origin.stop()
        let result = try fetch("-c", try config(cache: try SilentListener.closedPortURL()), url, "-o", try outputPath("file"))
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.output, "")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines[1].hasPrefix("Error: \(url): not in the cache, and the origin failed: GET \(url): "), result.stderr)
        try assertOnlyFiles([])
    }

    func testAWrongChecksumLeavesNoFileAndFilesNothing() throws {
        let result = try fetch("-c", try config(), url, "-o", try outputPath("file"), "--md5", String(repeating: "0", count: 32))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.stderr.hasSuffix("\(url): the origin sent MD5 \(md5(release)), not the expected MD5 \(String(repeating: "0", count: 32)); nothing written\n"),
            result.stderr)
        try assertOnlyFiles([])
        XCTAssertEqual(server.storedBlobs(), [])
    }

    func testAnHTTPErrorIsAnErrorAndRedirectsAreFollowed() throws {
        let missing = try fetch("-c", try config(), origin.url + "/absent.tar.gz", "-o", try outputPath("absent"))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("HTTP 404"), missing.stderr)
        try assertOnlyFiles([])
        XCTAssertEqual(server.storedBlobs(), [])

        let redirected = try fetch("-c", try config(), origin.url + "/redirect/pkg-1.0.tar.gz", "-o", try outputPath("redirected"))
        XCTAssertEqual(redirected.status, 0, redirected.stderr)
        XCTAssertEqual(contents("out/redirected"), release)
        XCTAssertEqual(origin.requests, ["/absent.tar.gz", "/redirect/pkg-1.0.tar.gz", "/pkg-1.0.tar.gz"])
    }

    /// A branch head that moved: the expected checksum wins over the cache, the newest
    /// entry wins without one, and --no-cache asks the origin.
    func testAURLWhoseBytesChangedIsNeverServedInPlaceOfWhatWasAsked() throws {
        let config = try config()
        XCTAssertEqual(try fetch("-c", config, url, "-o", try outputPath("old")).status, 0)
        let moved = Array("release 1.0, retagged\n".utf8)
        try origin.serve("pkg-1.0.tar.gz", moved)

        let expected = try fetch("-c", config, url, "-o", try outputPath("expected"), "--md5", md5(moved))
        XCTAssertEqual(expected.status, 0, expected.stderr)
        XCTAssertEqual(expected.output, "\(path("out/expected")): from the origin, filed in the cache\n")
        XCTAssertTrue(expected.stderr.contains("has MD5 \(md5(release)), not the expected MD5"), expected.stderr)
        XCTAssertEqual(contents("out/expected"), moved)

        origin.stop()
        let newest = try fetch("-c", config, url, "-o", try outputPath("newest"))
        XCTAssertEqual(newest.output, "\(path("out/newest")): from the cache\n")
        XCTAssertEqual(contents("out/newest"), moved)
        let old = try fetch("-c", config, url, "-o", try outputPath("by-sha512"), "--sha512", StreamingDigest.sha512Hex(of: release))
        XCTAssertEqual(old.output, "\(path("out/by-sha512")): from the cache\n")
        XCTAssertEqual(contents("out/by-sha512"), release)
        let bypass = try fetch("-c", config, url, "-o", try outputPath("bypass"), "--no-cache")
        XCTAssertEqual(bypass.status, 1, "the origin is down: --no-cache must not use the cache")
    }

    func testUntrustedEntriesAreNotUsedAndLookupShowsThem() throws {
        let (strangerKey, strangerCertificate) = try keygen("stranger")
        let strangerConfig = try config(key: strangerKey, trusted: [strangerCertificate])
        XCTAssertEqual(try fetch("-c", strangerConfig, url, "-o", try outputPath("stranger")).status, 0)
        origin.stop()
        let untrusted = try fetch("-c", try config(uploads: false), url, "-o", try outputPath("file"))
        XCTAssertEqual(untrusted.status, 1, "an entry signed by a stranger was used")

        let table = try netcache("lookup", "url", "-c", try config(), url)
        XCTAssertEqual(table.status, 0, table.stderr)
        let sha512 = StreamingDigest.sha512Hex(of: release)
        XCTAssertEqual(table.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }, [
            ["key:", DownloadKeyName.url(url)], ["sha512", "url", "trusted?"], [sha512, url, "no"],
        ])
        let json = try JSONValue(parsing: Array(try netcache("lookup", "url", "-c", strangerConfig, url, "--json").stdout))
        XCTAssertEqual(json.arrayValue?.first?.objectValue?["trusted"], .bool(true))
        XCTAssertEqual(json.arrayValue?.first?.objectValue?["sha512"], .string(sha512))
        XCTAssertEqual(try netcache("lookup", "url", "-c", try config(), origin.url + "/other").output, "no entry under \(DownloadKeyName.url(origin.url + "/other"))\n")
    }
}

/// The key, computed independently of the code under test.
enum DownloadKeyName {
    static func url(_ url: String) -> String { "file-urlmd5:" + StreamingDigest.md5Hex(of: url) }
}
