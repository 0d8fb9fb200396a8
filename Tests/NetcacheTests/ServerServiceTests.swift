import Foundation
import HummingbirdBcrypt
import XCTest

/// The server as a service: systemd readiness, SIGTERM's drain, /health, the log's level
/// and format.
final class ServerServiceTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testSystemdIsToldWhenTheServerListensAndWhenItStops() throws {
        let socket = try NotifySocket(path: directory.appendingPathComponent("notify").path)
        let server = try ServerProcess(environment: ["NOTIFY_SOCKET": socket.path])
        XCTAssertEqual(try socket.receive(), "READY=1\nSTATUS=listening on \(server.url)")
        kill(server.process.processIdentifier, SIGTERM)
        XCTAssertEqual(try socket.receive(), "STOPPING=1")
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0)
    }

    func testSIGTERMLetsADownloadInFlightFinishAndRefusesNewConnections() throws {
        let server = try ServerProcess()
        let content = Array(Interop.bytes(32 << 20, seed: 8))
        let sha = try TestHTTP.request("POST", server.shacacheURL, body: content).text
        var signalled = false
        var refusedMeanwhile = false
        let download = try TestHTTP.request("GET", server.shacacheURL + "/" + sha) { received in
            if !signalled, received > 1 << 20 {
                signalled = true
                kill(server.process.processIdentifier, SIGTERM)
                usleep(300_000)
                refusedMeanwhile = (try? TestHTTP.request("GET", server.url + "/health")) == nil
            }
            if signalled { usleep(2_000) }
        }
        XCTAssertEqual(download.status, 200)
        XCTAssertTrue(download.body == content, "the download was cut")
        XCTAssertTrue(refusedMeanwhile, "a new connection was served during the drain")
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0)
    }

    func testADownloadStalledPastTheGraceIsCut() throws {
        let server = try ServerProcess(arguments: ["--shutdown-grace", "1"])
        let content = Array(Interop.bytes(64 << 20, seed: 9))
        let sha = try TestHTTP.request("POST", server.shacacheURL, body: content).text
        let stalled = try RawSocket.openStalledDownload(url: server.shacacheURL + "/" + sha)
        defer { close(stalled) }
        let start = Date()
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "the stalled download held the server past its grace")
    }

    func testHealthIsOpenToAllAndTellsOnlyUploadersWhichBackendIsDown() throws {
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("secret", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let bucket = try Engines.freshBucket()
        let server = try ServerProcess(
            arguments: try Engines.serverArguments(bucket: bucket, database: try Engines.freshDatabase(), extra: ["--basic-auth-file", passwords.path, "--private-downloads"]),
            dataDirectory: directory, environment: Engines.s3Credentials)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "0", count: 128)).status, 401)
        let ready = try TestHTTP.request("GET", server.url + "/health")
        XCTAssertEqual(ready.status, 200)
        XCTAssertEqual(ready.text, #"{"status": "ready"}"# + "\n")

        XCTAssertEqual(try Engines.s3("DELETE", "/" + bucket).status, 204)
        // Checks are kept two seconds.
        try waitUntil(timeout: 10) { (try? TestHTTP.request("GET", server.url + "/health"))?.status == 503 }
        // Anonymous callers learn the status only; uploaders learn why.
        let down = try TestHTTP.request("GET", server.url + "/health")
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(down.text, #"{"status": "unavailable"}"# + "\n")
        let wrong = try TestHTTP.request("GET", server.url.replacingOccurrences(of: "http://", with: "http://node:wrong@") + "/health")
        XCTAssertEqual(wrong.text, #"{"status": "unavailable"}"# + "\n")
        let detailed = try TestHTTP.request("GET", server.url.replacingOccurrences(of: "http://", with: "http://node:secret@") + "/health")
        XCTAssertEqual(detailed.status, 503)
        XCTAssertTrue(detailed.text.hasPrefix(#"{"status": "unavailable", "problems": ["blob store: s3://\#(bucket)/blobs: no such bucket at "#), detailed.text)
    }

    /// However often /health is asked, the backends are checked at most once per two seconds.
    func testHealthChecksTheBackendsAtMostOnceInTwoSeconds() throws {
        let server = try ServerProcess(
            arguments: try Engines.serverArguments(bucket: try Engines.freshBucket(), database: try Engines.freshDatabase()),
            dataDirectory: directory, environment: Engines.s3Credentials)
        let start = Date()
        for _ in 0..<40 { XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200) }
        let elapsed = Date().timeIntervalSince(start)
        let metrics = try TestHTTP.request("GET", server.url + "/metrics").text
        let line = try XCTUnwrap(metrics.split(separator: "\n").first { $0.hasPrefix("netcache_health_checks_total ") }, metrics)
        let checks = try XCTUnwrap(Int(line.split(separator: " ")[1]))
        XCTAssertGreaterThanOrEqual(checks, 1)
        XCTAssertLessThanOrEqual(checks, 1 + Int(elapsed / 2) + 1, "\(checks) checks in \(elapsed) s")
    }

    func testJSONLogsGiveEachRequestItsFieldsAndItsUploader() throws {
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("secret", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path, "--log-format", "json"], dataDirectory: directory)
        let upload = try TestHTTP.request("POST", server.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:secret@"), body: [1, 2, 3])
        XCTAssertEqual(upload.status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + upload.text).status, 200)
        server.stop()
        let lines = try server.log.split(separator: "\n").map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0)) }
        let requests = lines.filter { $0["message"] as? String == "request" }
        XCTAssertEqual(requests.count, 2, server.log)
        XCTAssertEqual(requests.map { $0["method"] as? String }, ["POST", "GET"])
        XCTAssertEqual(requests.map { $0["status"] as? Int }, [201, 200])
        XCTAssertEqual(requests.map { $0["bytes"] as? Int }, [128, 3], "the larger of what came in and what went out")
        XCTAssertEqual(requests.map { $0["uploader"] as? String }, ["user node", nil])
        XCTAssertTrue(requests.allSatisfy { $0["duration_ms"] is Double && $0["time"] is String && $0["level"] as? String == "info" })
    }

    func testTheLogLevelLeavesOutWhatIsLessSevere() throws {
        let server = try ServerProcess(arguments: ["--log-level", "warning"], dataDirectory: directory)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/none").status, 404)
        server.stop()
        XCTAssertEqual(server.log, "")
        let invalid = try netcache("serve", "--log-level", "loud")
        XCTAssertEqual(invalid.status, 64)
        XCTAssertTrue(invalid.stderr.contains("--log-level"), invalid.stderr)
    }

    func testABasePathServesUnderItsPrefixOnly() throws {
        let server = try ServerProcess(arguments: ["--base-path", "/cache/"], dataDirectory: directory)
        XCTAssertTrue(server.url.hasSuffix("/cache"), server.url)
        let sha = try TestHTTP.request("POST", server.shacacheURL, body: [1, 2, 3]).text
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha).body, [1, 2, 3])
        let body = Array(#"["{\"sha512\": \"\#(sha)\"}", ""]"#.utf8)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:x=1", body: body).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/pypi:x=1").body, Array("[".utf8) + body + Array("]".utf8))
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200)
        let root = server.url.replacingOccurrences(of: "/cache", with: "")
        XCTAssertEqual(try TestHTTP.request("GET", root + "/shacache/" + sha).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", root + "/cachex/shacache/" + sha).status, 404)
    }

    func testAUnixSocketServesThisHostAndIsNotTakenFromALiveServer() throws {
        let socket = directory.appendingPathComponent("netcache.sock").path
        let first = try ServerProcess(arguments: ["--listen", "unix:" + socket], dataDirectory: try TemporaryDirectory.make())
        XCTAssertEqual(first.url, "unix:" + socket)
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        let sha = try NetcacheTests.run(curl, ["-s", "--unix-socket", socket, "--data-binary", "blob", "http://localhost/shacache"]).output
        XCTAssertEqual(sha.count, 128, sha)
        XCTAssertEqual(try NetcacheTests.run(curl, ["-s", "--unix-socket", socket, "http://localhost/shacache/" + sha]).output, "blob")

        let second = try netcache("serve", "--listen", "unix:" + socket, "--data", directory.appendingPathComponent("other").path)
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("--listen unix:\(socket): another server listens on it"), second.stderr)
        XCTAssertEqual(try NetcacheTests.run(curl, ["-s", "--unix-socket", socket, "http://localhost/shacache/" + sha]).output, "blob", "the first server lost its socket")

        // Left behind by kill -9: taken over by the next server.
        first.kill()
        let next = try ServerProcess(arguments: ["--listen", "unix:" + socket], dataDirectory: try TemporaryDirectory.make())
        XCTAssertEqual(try NetcacheTests.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socket, "http://localhost/health"]).output, "200")
        next.stop()
    }
}

/// A datagram socket standing in for systemd's notify socket.
private final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard bound == 0 else { throw TestFailure("bind \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
    }

    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { throw TestFailure("nothing on the notify socket: \(String(cString: strerror(errno)))") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
