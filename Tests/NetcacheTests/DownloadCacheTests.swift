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
    private func config(cache: String? = nil, uploadTo: String? = nil, uploads: Bool = true, key: String? = nil, trusted: [String]? = nil) throws -> String {
        let base = cache ?? server.url
        let uploadBase = uploadTo ?? base
        var text = "[networkcache]\ndownload-cache-url = \(base)/shacache\ndownload-dir-url = \(base)/shadir\n"
        if uploads { text += "upload-cache-url = \(uploadBase)/shacache\nupload-dir-url = \(uploadBase)/shadir\n" }
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

    func testVerboseSaysWhichEntryWasTakenAndWhyOthersWereNot() throws {
        let config = try config()
        let first = try fetch("-c", config, url, "-o", try outputPath("first"), "--verbose")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stderr, "netcache: 0 trusted entries under file-urlmd5:\(md5(Array(url.utf8))), the newest first\nnetcache: nothing usable in the cache: from the origin\n")
        let wrong = String(repeating: "ab", count: 64)
        let passedOver = try fetch("-c", config, url, "-o", try outputPath("second"), "--sha512", wrong, "-v")
        XCTAssertNotEqual(passedOver.status, 0)
        XCTAssertTrue(passedOver.stderr.contains("netcache: 1 trusted entry under file-urlmd5:"), passedOver.stderr)
        XCTAssertTrue(passedOver.stderr.contains(": not taken: not the expected SHA-512\n"), passedOver.stderr)
        let taken = try fetch("-c", config, url, "-o", try outputPath("third"), "-v")
        XCTAssertTrue(taken.stderr.contains("\(StreamingDigest.sha512Hex(of: release).prefix(16))…: taking it\n"), taken.stderr)
    }

    func testJSONSaysWhereTheFileCameFromWithItsSizeAndSHA512() throws {
        let config = try config()
        for (expectedSource, filed) in [("origin", true), ("cache", false)] {
            let result = try fetch("-c", config, url, "-o", try outputPath(expectedSource), "--json")
            XCTAssertEqual(result.status, 0, result.stderr)
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.output)
            XCTAssertEqual(summary["url"] as? String, url)
            XCTAssertEqual(summary["path"] as? String, try outputPath(expectedSource))
            XCTAssertEqual(summary["source"] as? String, expectedSource)
            XCTAssertEqual(summary["filed"] as? Bool, filed)
            XCTAssertEqual(summary["size"] as? Int, release.count)
            XCTAssertEqual(summary["sha512"] as? String, StreamingDigest.sha512Hex(of: release))
            XCTAssertNotNil(summary["seconds"] as? Double)
            XCTAssertEqual(result.output.split(separator: "\n").count, 1, "one document, nothing else on stdout")
        }
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
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(lines[0].hasPrefix("netcache: warning: cache unreachable (GET \(dead)/shadir/"), result.stderr)
        XCTAssertTrue(lines[0].hasSuffix("): fetching from the origin"), result.stderr)
        XCTAssertEqual(contents("out/file"), release)
    }

    func testAFailedUploadIsAWarningAndTheFileIsThere() throws {
        let result = try fetch("-c", try config(uploadTo: try SilentListener.closedPortURL()), url, "-o", try outputPath("file"))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.output, "\(path("out/file")): from the origin\n")
        XCTAssertTrue(result.stderr.hasPrefix("netcache: warning: fetched, but not filed in the cache: "), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(contents("out/file"), release)
    }

    func testBothDownIsOneLineAndNoFile() throws {
        origin.stop()
        let result = try fetch("-c", try config(cache: try SilentListener.closedPortURL()), url, "-o", try outputPath("file"))
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.output, "")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines[1].hasPrefix("netcache: error: \(url): not in the cache, and the origin failed: GET \(url): "), result.stderr)
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
            ["key:", DownloadKeyName.url(url)], ["sha512", "url", "trusted?", "why", "not"], [sha512, url, "no", "signature", "not", "trusted"],
        ])
        let json = try JSONValue(parsing: Array(try netcache("lookup", "url", "-c", strangerConfig, url, "--json").stdout))
        XCTAssertEqual(json.arrayValue?.first?.objectValue?["trusted"], .bool(true))
        XCTAssertEqual(json.arrayValue?.first?.objectValue?["sha512"], .string(sha512))
        XCTAssertEqual(try netcache("lookup", "url", "-c", try config(), origin.url + "/other").output, "no entry under \(DownloadKeyName.url(origin.url + "/other"))\n")
    }

    /// Download-cache keys listed in a file travel too: pulled into a data directory, served
    /// there with the origin gone.
    func testMirrorPullTakesTheKeysOfAFile() throws {
        XCTAssertEqual(try fetch("-c", try config(), url, "-o", try outputPath("first")).status, 0)
        let keys = path("keys.txt")
        try "# the downloads of one build\n\(DownloadKeyName.url(url))\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let site = directory.appendingPathComponent("site")
        let pulled = try netcache("mirror", "pull", "-c", try config(), "--keys-file", keys, "--data", site.appendingPathComponent("data").path)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        XCTAssertEqual(pulled.output, "\(DownloadKeyName.url(url)): 1 entries, 1 blobs\n")
        server.stop()
        origin.stop()
        let siteServer = try ServerProcess(dataDirectory: site)
        defer { siteServer.stop() }
        let fetched = try fetch("-c", try config(cache: siteServer.url, uploads: false), url, "-o", try outputPath("at-the-site"))
        XCTAssertEqual(fetched.output, "\(path("out/at-the-site")): from the cache\n", fetched.stderr)
        XCTAssertEqual(contents("out/at-the-site"), release)
    }

    /// A PEP 503 project page on the origin, linking the files of several versions.
    private func servePackageIndex(sha256 override: String? = nil) throws -> [UInt8] {
        let sdist = Array("demo 1.0 sdist\n".utf8)
        try FileManager.default.createDirectory(at: origin.root.appendingPathComponent("simple/demo-pkg"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: origin.root.appendingPathComponent("files"), withIntermediateDirectories: true)
        try origin.serve("files/Demo_Pkg-1.0.tar.gz", sdist)
        try origin.serve("files/demo_pkg-1.0-py3-none-any.whl", Array("wheel".utf8))
        try origin.serve("files/demo_pkg-1.1.tar.gz", Array("1.1".utf8))
        let digest = StreamingDigest.sha256()
        digest.update(sdist)
        let page = """
            <!DOCTYPE html><html><body>
            <a href="../../files/demo_pkg-1.0-cp311-cp311-linux_x86_64.whl">demo_pkg-1.0-cp311-cp311-linux_x86_64.whl</a>
            <a href="../../files/demo-pkg-1.0.zip" data-yanked="">demo-pkg-1.0.zip</a>
            <a href="../../files/demo_pkg-1.0-py3-none-any.whl">demo_pkg-1.0-py3-none-any.whl</a>
            <a href="../../files/Demo_Pkg-1.0.tar.gz#sha256=\(override ?? digest.finalize())">Demo_Pkg-1.0.tar.gz</a>
            <a href="../../files/demo_pkg-1.1.tar.gz">demo_pkg-1.1.tar.gz</a>
            </body></html>
            """
        try origin.serve("simple/demo-pkg/index.html", Array(page.utf8))
        return sdist
    }

    func testAPythonDistributionComesFromTheIndexThenFromTheCacheUnderItsBasename() throws {
        let sdist = try servePackageIndex()
        let config = try config()
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        let first = try netcache(arguments: ["fetch", "-c", config, "--pypi", "Demo.Pkg==1.0", "--index", origin.url + "/simple"], directory: URL(fileURLWithPath: path("out")))
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.output, "\(path("out/Demo_Pkg-1.0.tar.gz")): from the origin, filed in the cache\n")
        XCTAssertEqual(contents("out/Demo_Pkg-1.0.tar.gz"), sdist)
        XCTAssertEqual(origin.requests, ["/simple/demo-pkg/", "/files/Demo_Pkg-1.0.tar.gz"])
        let entries = try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/pypi:Demo.Pkg=1.0").body)
        XCTAssertEqual(entries.map(\.info), ["{\"sha512\": \"\(StreamingDigest.sha512Hex(of: sdist))\", \"basename\": \"Demo_Pkg-1.0.tar.gz\"}"])

        origin.stop()
        let second = try fetch("-c", config, "--pypi", "Demo.Pkg==1.0", "-o", try outputPath("renamed.tar.gz"))
        XCTAssertEqual(second.output, "\(path("out/renamed.tar.gz")): from the cache\n", second.stderr)
        XCTAssertEqual(contents("out/renamed.tar.gz"), sdist)
        let lookup = try netcache("lookup", "pypi", "-c", config, "Demo.Pkg==1.0")
        XCTAssertTrue(lookup.output.contains("Demo_Pkg-1.0.tar.gz  yes"), lookup.output)
    }

    func testADistributionThatDoesNotMatchTheIndexSHA256LeavesNoFile() throws {
        _ = try servePackageIndex(sha256: String(repeating: "1", count: 64))
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        let result = try netcache(arguments: ["fetch", "-c", try config(), "--pypi", "demo-pkg==1.0", "--index", origin.url + "/simple"], directory: URL(fileURLWithPath: path("out")))
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("not the expected SHA-256 \(String(repeating: "1", count: 64)); nothing written"), result.stderr)
        try assertOnlyFiles([])
        let missing = try netcache(arguments: ["fetch", "-c", try config(), "--pypi", "demo-pkg==2.0", "--index", origin.url + "/simple"], directory: URL(fileURLWithPath: path("out")))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("lists no source distribution or pure wheel of version 2.0"), missing.stderr)
    }
}

/// The key, computed independently of the code under test.
enum DownloadKeyName {
    static func url(_ url: String) -> String { "file-urlmd5:" + StreamingDigest.md5Hex(of: url) }
}
