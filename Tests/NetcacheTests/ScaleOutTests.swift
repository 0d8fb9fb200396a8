import Foundation
import HummingbirdBcrypt
import NetcacheProtocol
import XCTest

/// Two `netcache serve` processes sharing one PostgreSQL database and one S3 bucket, the
/// real engines `scripts/test.sh` starts: one cache, whichever server a client reaches.
final class ScaleOutTests: XCTestCase {
    private var bucket: String!
    private var database: String!
    private var directory: URL!
    private var servers: [ServerProcess] = []

    override func setUpWithError() throws {
        bucket = try Engines.freshBucket()
        database = try Engines.freshDatabase()
        directory = try TemporaryDirectory.make()
        servers = [try server(), try server()]
    }

    override func tearDown() {
        for server in servers { server.stop() }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func server(_ extra: [String] = []) throws -> ServerProcess {
        let own = directory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
        return try ServerProcess(arguments: try Engines.serverArguments(bucket: bucket, database: database, extra: extra), dataDirectory: own, environment: Engines.s3Credentials)
    }

    private func entry(_ info: String) -> [UInt8] {
        Array(JSONValue.array([.string(info), .string("c2ln")]).pythonJSON.utf8)
    }

    func testABlobOrEntryStoredThroughOneServerIsServedByTheOther() throws {
        let content = Interop.bytes(1_000_000, seed: 3)
        let upload = try TestHTTP.request("POST", servers[0].shacacheURL, body: Array(content))
        XCTAssertEqual(upload.status, 201)
        let sha = Interop.sha512(content)
        XCTAssertEqual(upload.text, sha)

        let download = try TestHTTP.request("GET", servers[1].shacacheURL + "/" + sha)
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(Data(download.body), content)
        let range = try TestHTTP.request("GET", servers[1].shacacheURL + "/" + sha, headers: ["Range: bytes=999990-"])
        XCTAssertEqual(range.status, 206)
        XCTAssertEqual(range.headers["content-range"], "bytes 999990-999999/1000000")
        XCTAssertEqual(Data(range.body), content.suffix(10))
        XCTAssertEqual(try TestHTTP.request("HEAD", servers[1].shacacheURL + "/" + sha).headers["content-length"], "1000000")
        XCTAssertEqual(try TestHTTP.request("GET", servers[1].shacacheURL + "/" + String(repeating: "0", count: 128)).status, 404)

        let body = entry(#"{"sha512": "\#(sha)", "url": "http://a"}"#)
        XCTAssertEqual(try TestHTTP.request("PUT", servers[1].shadirURL + "/file-urlmd5:ab", body: body).status, 201)
        let listing = try TestHTTP.request("GET", servers[0].shadirURL + "/file-urlmd5:ab")
        XCTAssertEqual(listing.status, 200)
        XCTAssertEqual(listing.text, "[" + String(decoding: body, as: UTF8.self) + "]")

        // All of it in the shared backends, nothing on either server.
        XCTAssertEqual(try Engines.objects(in: bucket), ["blobs/" + sha])
        XCTAssertEqual(try Engines.sql(database, "SELECT key, body FROM shadir_entry"), ["file-urlmd5:ab\t" + String(decoding: body, as: UTF8.self)])
        for server in servers {
            XCTAssertEqual(server.storedBlobs(), [])
            XCTAssertEqual(server.stagedFiles(), [])
        }
    }

    /// slapos.libnetworkcache's own OnlineTest, unmodified, pointed at each server through
    /// its TEST_SHA_CACHE and TEST_SHA_DIR. Its five other tests write files into the tree of
    /// the Python test server they start themselves, and run only against that one.
    func testTheUnmodifiedPythonOnlineScenariosPassAgainstEachServer() throws {
        try Interop.requireVenv()
        let scenarios = [
            "test_upload", "test_upload_shadir", "test_upload_shadir_select", "test_upload_shadir_select_not_exists", "test_upload_twice_same",
            "test_download", "test_download_not_exists", "test_select_signed_content", "test_select_signed_content_several_certificates",
            "test_select_signed_content_multiple", "test_NetworkcacheClient_handle_bad_certificates", "test_DirectoryNotFound_non_trustable_entry",
        ].map { "slapos.libnetworkcachetests.OnlineTest." + $0 }
        for server in servers {
            let result = try NetcacheTests.run(
                Interop.python, ["-m", "unittest"] + scenarios,
                environment: ["TEST_SHA_CACHE": server.shacacheURL, "TEST_SHA_DIR": server.shadirURL, "PYTHONDONTWRITEBYTECODE": "1"], directory: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("Ran \(scenarios.count) tests"), result.stderr)
            XCTAssertTrue(result.stderr.hasSuffix("OK\n"), result.stderr)
        }
    }

    func testAServerKilledMidUploadLeavesNoObjectUnderTheBlobsNameAndARetrySucceeds() throws {
        let kept = Array(Interop.bytes(10_000, seed: 4))
        XCTAssertEqual(try TestHTTP.request("POST", servers[1].shacacheURL, body: kept).status, 201)
        let file = directory.appendingPathComponent("large.bin")
        let content = Interop.bytes(300 << 20, seed: 5)
        try content.write(to: file)
        let sha = Interop.sha512(content)

        // Once while the client sends, once while the server sends the parts on to S3.
        for phase in ["receiving", "sending parts"] {
            let victim = try server()
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "-o", "/dev/null", "--limit-rate", phase == "receiving" ? "20M" : "0", "--data-binary", "@" + file.path, victim.shacacheURL]
            try curl.run()
            if phase == "receiving" {
                try waitUntil(timeout: 30) { victim.stagedFiles().count == 1 && (try? Engines.pendingUploads(in: bucket)) == [] }
                usleep(300_000)
            } else {
                try waitUntil(timeout: 60) { try !Engines.pendingUploads(in: bucket).isEmpty }
            }
            victim.kill()
            curl.waitUntilExit()
            XCTAssertFalse(try Engines.objects(in: bucket).contains("blobs/" + sha), phase)
            XCTAssertEqual(try TestHTTP.request("HEAD", servers[0].shacacheURL + "/" + sha).status, 404, phase)
            XCTAssertEqual(try TestHTTP.request("GET", servers[0].shacacheURL + "/" + Interop.sha512(Data(kept))).body, kept, phase)
        }

        // What the dead server left of its multipart upload is swept by a server that counts
        // it as abandoned.
        XCTAssertEqual(try Engines.pendingUploads(in: bucket), ["blobs/" + sha])
        let sweeper = try server(["--s3-abandoned-upload-age", "1"])
        try waitUntil(timeout: 30) { try Engines.pendingUploads(in: bucket).isEmpty }
        sweeper.stop()

        let retry = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "--data-binary", "@" + file.path, servers[1].shacacheURL])
        XCTAssertEqual(retry.output, sha)
        XCTAssertTrue(try Engines.objects(in: bucket).contains("blobs/" + sha))
        let back = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "curl -s \(servers[0].shacacheURL)/\(sha) | sha512sum"])
        XCTAssertEqual(back.output, sha + "  -\n")
    }

    func testTwentyConcurrentPutsThroughBothServersStoreEachEntryOnceInOneOrder() throws {
        let key = "slapos-binary-cache:race"
        let same = entry(#"{"sha512": "\#(String(repeating: "a", count: 128))"}"#)
        let different = (0..<10).map { entry(#"{"sha512": "\#(String(repeating: "b", count: 128))", "n": \#($0)}"#) }
        let bodies = (0..<20).map { $0 % 2 == 0 ? same : different[$0 / 2] }
        let puts = bodies.indices.map { SimultaneousRequests.Request(method: "PUT", url: servers[$0 % 2].shadirURL + "/" + key, body: bodies[$0]) }
        let racing = try SimultaneousRequests(puts)
        try racing.release()
        let answers = try racing.answers()
        XCTAssertEqual(answers.map(\.status), Array(repeating: 201, count: 20), answers.map(\.text).joined(separator: "\n"))

        let listings = try servers.map { try TestHTTP.request("GET", $0.shadirURL + "/" + key).text }
        XCTAssertEqual(listings[0], listings[1], "both servers list one order")
        let listed = try ShadirListing.parse(Array(listings[0].utf8)).map { Array($0.body.utf8) }
        XCTAssertEqual(listed.count, 11)
        XCTAssertEqual(Set(listed), Set([same] + different))
        XCTAssertEqual(try Engines.sql(database, "SELECT count(*) FROM shadir_entry"), ["11"])
        // Read again, through the other server: the same order still.
        XCTAssertEqual(try TestHTTP.request("GET", servers[1].shadirURL + "/" + key).text, listings[0])
    }

    func testAReleasePublishedThroughOneServerInstallsThroughTheOther() throws {
        let fixture = try BinaryCacheFixture(serverArguments: try Engines.serverArguments(bucket: bucket, database: database), serverEnvironment: Engines.s3Credentials)
        defer { fixture.server.stop() }
        try ReleaseTree.make(at: fixture.release)
        let published = try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)

        let first = try fixture.config()
        let second = fixture.directory.appendingPathComponent("second.cfg").path
        try (try String(contentsOfFile: first, encoding: .utf8)).replacingOccurrences(of: fixture.server.url, with: servers[1].url).write(toFile: second, atomically: true, encoding: .utf8)
        fixture.server.stop()
        let installed = try netcache("install", "-c", second, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertTrue(installed.output.hasPrefix("installed: \(fixture.release) from netcache:\(fixture.md5)"), installed.output)
        try ReleaseTree.assertSameTree(original, fixture.release)
    }

    /// The README's nginx configuration, as printed there, in front of both servers: the
    /// Python client selects and downloads what was uploaded through it.
    func testTheDocumentedNginxLoadBalancerServesThePythonClient() throws {
        try Interop.requireVenv()
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("secret", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        for server in servers { server.stop() }
        servers = [try server(["--basic-auth-file", passwords.path]), try server(["--basic-auth-file", passwords.path])]
        // Each server behind a proxy that records the requests nginx sends it, as they arrive.
        let recorders = try servers.map { try GatedProxy.recording($0.url) }
        let balancer = try NginxBalancer(upstreams: recorders.map(\.url), directory: directory)
        defer { balancer.stop() }

        let key = try netcache("keygen", directory.appendingPathComponent("k.key").path, "lb", "--cert-file", directory.appendingPathComponent("k.crt").path)
        XCTAssertEqual(key.status, 0, key.stderr)
        let certificate = try String(contentsOf: directory.appendingPathComponent("k.crt"), encoding: .utf8)
        let upload = balancer.url.replacingOccurrences(of: "http://", with: "http://node:secret@")
        let config = directory.appendingPathComponent("lb.cfg")
        try """
            [networkcache]
            download-cache-url = \(balancer.url)/shacache
            upload-cache-url = \(upload)/shacache
            download-dir-url = \(balancer.url)/shadir
            upload-dir-url = \(upload)/shadir
            signature-private-key-file = \(directory.appendingPathComponent("k.key").path)
            signature-certificate-list =
            \(certificate.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

            """.write(to: config, atomically: true, encoding: .utf8)
        let content = Interop.bytes(5 << 20, seed: 6)
        let file = directory.appendingPathComponent("payload.bin")
        try content.write(to: file)
        let script = Binaries.packageRoot.appendingPathComponent("Tests/interop")
        // Ours uploads: slapos.libnetworkcache 0.30 cannot send basic credentials on Python 3
        // (it base64-encodes a str and raises TypeError), whatever the server.
        let uploaded = try netcache("upload", "-c", config.path, "--file", file.path, "--key", "pypi:lb=1", "name=lb")
        XCTAssertEqual(uploaded.status, 0, uploaded.stderr)
        XCTAssertTrue(uploaded.output.contains("sha512: " + Interop.sha512(content)), uploaded.output)
        let selected = try NetcacheTests.run(Interop.python, [script.appendingPathComponent("select_entries.py").path, config.path, "pypi:lb=1"], directory: directory)
        XCTAssertEqual(selected.output, #"{"sha512": "\#(Interop.sha512(content))", "name": "lb"}"# + "\n", selected.stderr)
        // Several times: nginx spreads them over both servers.
        for _ in 0..<4 {
            let downloaded = try NetcacheTests.run(Interop.python, [script.appendingPathComponent("download.py").path, config.path, Interop.sha512(content)], directory: directory)
            XCTAssertEqual(downloaded.stdout, content)
        }
        let served = recorders.map { $0.requests.filter { $0.hasPrefix("GET /shacache/") }.count }
        XCTAssertEqual(served.reduce(0, +), 4)
        XCTAssertTrue(served.allSatisfy { $0 > 0 }, "nginx used one server only: \(served)")
        XCTAssertEqual(try TestHTTP.request("POST", balancer.url + "/shacache", body: [1, 2, 3]).status, 401, "no credentials, no upload")
    }

    func testAMirrorOnTheSharedBackendsKeepsWhatItFetchedThere() throws {
        let upstreamDirectory = directory.appendingPathComponent("upstream")
        try FileManager.default.createDirectory(at: upstreamDirectory, withIntermediateDirectories: true)
        let upstream = try ServerProcess(dataDirectory: upstreamDirectory)
        let content = Array(Interop.bytes(200_000, seed: 7))
        let sha = Interop.sha512(Data(content))
        XCTAssertEqual(try TestHTTP.request("POST", upstream.shacacheURL, body: content).status, 201)
        let body = entry(#"{"sha512": "\#(sha)"}"#)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/pypi:far=1", body: body).status, 201)

        let mirror = try server(["--upstream-cache", upstream.shacacheURL, "--upstream-dir", upstream.shadirURL])
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha).body, content)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/pypi:far=1").text, "[" + String(decoding: body, as: UTF8.self) + "]")
        try waitUntil { try Engines.objects(in: self.bucket).contains("blobs/" + sha) }
        upstream.stop()

        // The blob is in the bucket, so the other server has it too; upstream's entry is
        // not filed in the shared database (the mirror lists what upstream lists now), but
        // the mirror's kept copy of it serves while upstream is down.
        XCTAssertEqual(try TestHTTP.request("GET", servers[0].shacacheURL + "/" + sha).body, content)
        XCTAssertEqual(try TestHTTP.request("GET", servers[0].shadirURL + "/pypi:far=1").status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/pypi:far=1").text, "[" + String(decoding: body, as: UTF8.self) + "]")
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha).body, content)
        XCTAssertEqual(mirror.storedBlobs(), [])
    }
}
