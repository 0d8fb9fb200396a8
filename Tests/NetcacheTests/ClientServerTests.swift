import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

final class ClientServerTests: XCTestCase {
    var server: ServerProcess!
    var directory: URL!

    override func setUpWithError() throws {
        server = try ServerProcess()
        directory = try TemporaryDirectory.make()
    }

    override func tearDown() {
        server.stop()
    }

    private func shacache(_ base: String? = nil) -> ShacacheClient {
        ShacacheClient(downloadURL: (base ?? server.url) + "/shacache", uploadURL: (base ?? server.url) + "/shacache", tls: TLSSettings())
    }

    private func file(_ bytes: [UInt8], name: String = "data") throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func download(_ client: ShacacheClient, _ sha512: String) throws -> [UInt8] {
        var received: [UInt8] = []
        try client.download(sha512) { received.append(contentsOf: $0) }
        return received
    }

    private func pseudoRandomBytes(_ count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E3779B97F4A7C15
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func testUploadThenDownloadVerified() throws {
        let bytes = pseudoRandomBytes(300_000)
        let sha512 = try shacache().upload(file: try file(bytes))
        XCTAssertEqual(sha512, StreamingDigest.sha512Hex(of: bytes))
        XCTAssertEqual(try download(shacache(), sha512), bytes)
    }

    func testExistingBlobsAreNotUploadedAgain() throws {
        let path = try file(Array("same".utf8))
        let recorder = try GatedProxy.recording(server.url)
        try shacache(recorder.url).upload(file: path)
        try shacache(recorder.url).upload(file: path)
        XCTAssertEqual(recorder.requests.filter { $0.hasPrefix("HEAD /shacache/") }.count, 2, "\(recorder.requests)")
        XCTAssertEqual(recorder.requests.filter { $0.hasPrefix("POST /shacache") }.count, 1, "\(recorder.requests)")
    }

    func testExistenceCheckFallsBackToGETWithoutHEAD() throws {
        let path = try file(Array("probe".utf8))
        let sha512 = try shacache().upload(file: path)
        let proxy = try CuttingProxy(upstream: server.url, behaviour: .refuseHEAD)
        XCTAssertTrue(try shacache(proxy.url).exists(sha512, baseURL: proxy.url + "/shacache"))
        XCTAssertFalse(try shacache(proxy.url).exists(String(repeating: "0", count: 128), baseURL: proxy.url + "/shacache"))
        XCTAssertEqual(proxy.heads.withLock { $0 }, 2)
    }

    func testCutDownloadIsResumedWithRange() throws {
        let bytes = pseudoRandomBytes(1_000_000)
        let sha512 = try shacache().upload(file: try file(bytes))
        let proxy = try CuttingProxy(upstream: server.url, behaviour: .cutFirstResponse(after: 200_000))
        XCTAssertEqual(try download(shacache(proxy.url), sha512), bytes)
        try waitUntil { self.server.log.contains(" 206 ") }
    }

    func testCorruptedBlobFailsTheChecksumAndLeavesNoFile() throws {
        let bytes = Array("original content".utf8)
        let sha512 = try shacache().upload(file: try file(bytes))
        let stored = server.dataDirectory.appendingPathComponent("shacache/\(sha512.prefix(2))/\(sha512)")
        try Data("tampered content".utf8).write(to: stored)
        XCTAssertThrowsError(try download(shacache(), sha512)) { error in
            XCTAssertTrue("\(error)".contains("invalid checksum"), "\(error)")
            XCTAssertTrue("\(error)".contains(self.server.url), "\(error)")
        }

        let config = try writeConfig()
        try NetworkCache(configuration: NetworkCacheConfiguration(contentsOf: config)).index(key: "k", sha512: sha512, metadata: JSONObject([("a", .string("b"))]))
        let output = directory.appendingPathComponent("out").path
        let result = try netcache("download", "-c", config, "--key", "k", "-o", output)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("invalid checksum"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".out") }, [])
    }

    /// A connection closed inside a response's head (a server whose write failed there) is a
    /// transport error: libcurl 7.88 ends such a transfer as if it were whole, a 200 with no
    /// body, and the client says what happened itself.
    func testAConnectionClosedInsideTheResponseHeadIsAnError() throws {
        let (listener, url) = try RawSocket.listenOnLoopback()
        defer { close(listener) }
        let served = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { served.signal() }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            _ = RawSocket.readHead(client)
            _ = RawSocket.sendAll(Array("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\netag: \"ab".utf8), on: client)
        }
        XCTAssertThrowsError(try TestHTTP.request("GET", url + "/shacache/" + String(repeating: "ab", count: 64))) { error in
            XCTAssertEqual((error as? HTTPClientError)?.kind, .transport, "\(error)")
        }
        served.wait()
    }

    func testErrorsNameTheURLAndStatus() throws {
        XCTAssertThrowsError(try download(shacache(), String(repeating: "1", count: 128))) { error in
            XCTAssertEqual("\(error)", "GET \(self.server.url)/shacache/\(String(repeating: "1", count: 128)): HTTP 404")
        }
        var unreachable = ShacacheClient(downloadURL: "http://127.0.0.1:9/shacache", uploadURL: "http://user:secret@127.0.0.1:9/shacache", tls: TLSSettings())
        unreachable.retry = UploadRetry(attempts: 2, firstDelay: .milliseconds(10))
        XCTAssertThrowsError(try unreachable.upload(file: try file([1]))) { error in
            XCTAssertTrue("\(error)".hasPrefix("HEAD http://127.0.0.1:9/shacache/"), "\(error)")
            XCTAssertFalse("\(error)".contains("secret"), "\(error)")
        }
    }

    func testIndexSelectAndDownloadThroughTheCommandLine() throws {
        let config = try writeConfig()
        let data = try file(Array("payload\n".utf8), name: "payload")
        let upload = try netcache("upload", "-c", config, "--file", data, "--url", "http://example.org/payload.tar.gz", "extra=1")
        XCTAssertEqual(upload.status, 0, upload.stderr)
        let sha512 = StreamingDigest.sha512Hex(of: Array("payload\n".utf8))
        let key = "file-urlmd5:" + StreamingDigest.md5Hex(of: "http://example.org/payload.tar.gz")
        XCTAssertEqual(upload.output, "sha512: \(sha512)\nkey: \(key)\n")

        let listing = try TestHTTP.request("GET", server.shadirURL + "/" + key)
        let entries = try ShadirListing.parse(listing.body)
        XCTAssertEqual(entries.map(\.info), ["{\"sha512\": \"\(sha512)\", \"extra\": \"1\", \"url\": \"http://example.org/payload.tar.gz\"}"])

        let list = try netcache("download", "-c", config, "--url", "http://example.org/payload.tar.gz", "--list")
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.output, "[\n  {\n    \"extra\": \"1\",\n    \"sha512\": \"\(sha512)\",\n    \"url\": \"http://example.org/payload.tar.gz\"\n  }\n]\n")

        let fetched = try netcache("download", "-c", config, "--key", key)
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertEqual(fetched.output, "payload\n")

        let output = directory.appendingPathComponent("fetched").path
        XCTAssertEqual(try netcache("download", "-c", config, "--key", key, "-o", output, "extra==\"1\"").status, 0)
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "payload\n")

        let none = try netcache("download", "-c", config, "--key", key, "extra==\"2\"")
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stderr, "netcache: error: the one trusted entry under \(key) does not meet the criteria\n")

        let explained = try netcache("download", "-c", config, "--key", key, "extra==\"2\"", "--verbose")
        XCTAssertEqual(
            explained.stderr,
            "netcache: 1 trusted entry under \(key)\nnetcache: \(sha512.prefix(16))…: not taken: extra==\"2\"\nnetcache: error: the one trusted entry under \(key) does not meet the criteria\n")
        let taken = try netcache("download", "-c", config, "--key", key, "-o", output, "extra==\"1\"", "-v")
        XCTAssertEqual(taken.stderr, "netcache: 1 trusted entry under \(key)\nnetcache: \(sha512.prefix(16))…: taking it, the first that every criterion kept\n")
    }

    func testUploadWithKeyNeedsMetadata() throws {
        let config = try writeConfig()
        let result = try netcache("upload", "-c", config, "--file", try file([1, 2]), "--key", "test:k")
        XCTAssertEqual(result.status, 64, "a usage error")
        XCTAssertTrue(result.stderr.hasPrefix("netcache: error: --key needs metadata: give KEY=VALUE pairs or --metadata FILE.json"), result.stderr)
        XCTAssertTrue(result.stderr.contains("\nUsage: netcache upload "), result.stderr)

        let metadata = directory.appendingPathComponent("meta.json")
        try Data(#"{"version": [4, 2], "name": "x", "n": 1.5}"#.utf8).write(to: metadata)
        let indexed = try netcache("upload", "-c", config, "--file", try file([1, 2]), "--key", "test:k", "--metadata", metadata.path, "name=y")
        XCTAssertEqual(indexed.status, 0, indexed.stderr)
        let entries = try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/test:k").body)
        XCTAssertEqual(entries.first?.info, "{\"sha512\": \"\(StreamingDigest.sha512Hex(of: [1, 2] as [UInt8]))\", \"version\": [4, 2], \"name\": \"y\", \"n\": 1.5}")
    }

    func testUploadingAURLFetchesItFromItsOriginFirst() throws {
        let config = try writeConfig()
        let origin = Array("source tarball from its origin\n".utf8)
        let originSHA = try shacache().upload(file: try file(origin, name: "origin"))
        let originURL = server.shacacheURL + "/" + originSHA
        let upload = try netcache("upload", "-c", config, "--url", originURL)
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertEqual(upload.output, "sha512: \(originSHA)\nkey: file-urlmd5:\(StreamingDigest.md5Hex(of: originURL))\n")
        let fetched = try netcache("download", "-c", config, "--url", originURL)
        XCTAssertEqual(Array(fetched.stdout), origin)

        let missing = try netcache("upload", "-c", config, "--url", server.shacacheURL + "/" + String(repeating: "0", count: 128))
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("HTTP 404"), missing.stderr)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("netcache-upload-") }
        XCTAssertEqual(leftovers, [])
    }

    /// An FTP origin (pyftpdlib, from the venv) ends its transfer with 226, which is not an
    /// HTTP status: the file is fetched, uploaded and filed under its URL.
    func testUploadingAnFTPURLFetchesItFromItsOrigin() throws {
        let python = Binaries.packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("no interop venv at \(python): run scripts/interop-venv.sh")
        }
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let origin = Array("a source tarball on an FTP mirror\n".utf8)
        try Data(origin).write(to: root.appendingPathComponent("source.tar.gz"))
        let port = try RawSocket.port(of: try SilentListener.closedPortURL())
        let ftp = Process()
        ftp.executableURL = URL(fileURLWithPath: python)
        ftp.arguments = ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", "\(port)", "-d", root.path]
        ftp.standardOutput = FileHandle.nullDevice
        ftp.standardError = FileHandle.nullDevice
        try ftp.run()
        defer {
            ftp.terminate()
            ftp.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while (try? RawSocket.connectLoopback(port: port)).map({ close($0) }) == nil && Date() < deadline { usleep(20_000) }

        let url = "ftp://127.0.0.1:\(port)/source.tar.gz"
        let upload = try netcache("upload", "-c", try writeConfig(), "--url", url)
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertEqual(upload.output, "sha512: \(StreamingDigest.sha512Hex(of: origin))\nkey: file-urlmd5:\(StreamingDigest.md5Hex(of: url))\n")
        let missing = try netcache("upload", "-c", try writeConfig(), "--url", "ftp://127.0.0.1:\(port)/missing.tar.gz")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    func testUploadingADirectoryUploadsAGzipTarOfIt() throws {
        let config = try writeConfig()
        let tree = directory.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("src"), withIntermediateDirectories: true)
        try Data("main\n".utf8).write(to: tree.appendingPathComponent("src/main.c"))
        let upload = try netcache("upload", "-c", config, "--url", tree.path)
        XCTAssertEqual(upload.status, 0, upload.stderr)
        let archive = directory.appendingPathComponent("project.tar.gz").path
        XCTAssertEqual(try netcache("download", "-c", config, "--url", tree.path, "-o", archive).status, 0)
        let listing = try NetcacheTests.run(URL(fileURLWithPath: "/bin/tar"), ["-tzf", archive])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        XCTAssertEqual(listing.output.split(separator: "\n").map(String.init), ["project/", "project/src/", "project/src/main.c"])
    }

    /// A slapos.cfg for this server, with a fresh signing key and its certificate trusted.
    private func writeConfig() throws -> String {
        let generated = try KeyGenerator.generate(commonName: "test", bits: 1024)
        let keyFile = directory.appendingPathComponent("signature.key")
        try generated.privateKeyPEM.write(to: keyFile, atomically: true, encoding: .utf8)
        let certificate = generated.certificatePEM.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let text = """
            [networkcache]
            download-cache-url = \(server.shacacheURL)
            upload-cache-url = \(server.shacacheURL)
            download-dir-url = \(server.shadirURL)
            upload-dir-url = \(server.shadirURL)
            signature-private-key-file = \(keyFile.path)
            signature-certificate-list =
            \(certificate)
            """
        let config = directory.appendingPathComponent("slapos.cfg")
        try text.write(to: config, atomically: true, encoding: .utf8)
        return config.path
    }
}
