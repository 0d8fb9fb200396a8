import Foundation
import XCTest
@testable import NetcacheClient
import NetcacheProtocol

/// A data directory whose file system stops answering (a hung network mount, a failing disk)
/// holds the requests that need it, never the server: its metadata calls run on threads of
/// their own, not on Swift's cooperative pool, which every request shares.
final class SlowFileSystemTests: XCTestCase {
    func testUploadsStuckInStatvfsDoNotStallDownloadsOrMetrics() throws {
        let directory = try TemporaryDirectory.make()
        let shim = try Self.compileStatvfsGate(into: directory)
        let gate = directory.appendingPathComponent("gate")
        let held = directory.appendingPathComponent("gate.held")
        // One thread in the cooperative pool, whatever the cores: a single blocking call on
        // it would stall every request.
        let server = try ServerProcess(arguments: ["--min-free-space", "1"], environment: [
            "LD_PRELOAD": shim.path, "NETCACHE_TEST_STATVFS_GATE": gate.path, "LIBDISPATCH_COOPERATIVE_POOL_STRICT": "1",
        ])
        defer { server.stop() }
        // Opened before the server stops, whatever failed: a server stuck in statvfs cannot.
        defer { try? FileManager.default.removeItem(at: gate) }
        let stored = Array("stored before the file system hung".utf8)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: stored).status, 201)
        let sha512 = StreamingDigest.sha512Hex(of: stored)

        XCTAssertTrue(FileManager.default.createFile(atPath: gate.path, contents: nil))
        let uploads = 3
        let answers = UploadAnswers()
        let shacacheURL = server.shacacheURL
        let threads = (0..<uploads).map { index in
            Thread {
                let answer = try? TestHTTP.request("POST", shacacheURL, body: Array("held \(index)".utf8))
                answers.add(answer?.status ?? 0)
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(20)
        while Self.heldCalls(held) < uploads && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(Self.heldCalls(held), uploads, "every upload checks the free space first")

        let quick = TransferTimeouts(connect: 5, lowSpeedLimit: 1, lowSpeedTime: 10)
        var download = HTTPRequest(method: "GET", url: server.shacacheURL + "/" + sha512)
        download.timeouts = quick
        var body: [UInt8] = []
        let head = try CurlEasy().perform(download) { _, chunk in
            body.append(contentsOf: chunk)
            return true
        }
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(body, stored)
        var metrics = HTTPRequest(method: "GET", url: server.url + "/metrics")
        metrics.timeouts = quick
        XCTAssertEqual(try CurlEasy().perform(metrics) { _, _ in true }.status, 200)
        XCTAssertEqual(answers.statuses, [], "no upload answered while its file system hung")

        try FileManager.default.removeItem(at: gate)
        let released = Date().addingTimeInterval(20)
        while answers.statuses.count < uploads && Date() < released { usleep(20_000) }
        XCTAssertEqual(answers.statuses, Array(repeating: 201, count: uploads))
    }

    /// `/health` answers within its 5 s however long the file system hangs, and the check it
    /// left waiting is the only one: asked again past the 2 s its answer is kept, it does
    /// not start another that would take one more thread.
    func testAHungFileSystemHoldsOneHealthCheckAndHealthStillAnswers() throws {
        let directory = try TemporaryDirectory.make()
        let shim = try Self.compileStatvfsGate(into: directory)
        let gate = directory.appendingPathComponent("gate")
        let held = directory.appendingPathComponent("gate.held")
        let server = try ServerProcess(arguments: ["--min-free-space", "1"], environment: ["LD_PRELOAD": shim.path, "NETCACHE_TEST_STATVFS_GATE": gate.path])
        defer { server.stop() }
        // Opened before the server stops, whatever failed: a server stuck in statvfs cannot.
        defer { try? FileManager.default.removeItem(at: gate) }
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200)

        XCTAssertTrue(FileManager.default.createFile(atPath: gate.path, contents: nil))
        var health = HTTPRequest(method: "GET", url: server.url + "/health")
        health.timeouts = TransferTimeouts(connect: 5, lowSpeedLimit: 1, lowSpeedTime: 10)
        for _ in 0..<3 {
            // Past the 2 s an answer is kept.
            sleep(3)
            var body: [UInt8] = []
            let head = try CurlEasy().perform(health) { _, chunk in
                body.append(contentsOf: chunk)
                return true
            }
            XCTAssertEqual(head.status, 503)
            // Anonymous uploads from this host: the caller may upload, so it is told why.
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "{\"status\": \"unavailable\", \"problems\": [\"blob store: no answer within 5 s\"]}\n")
        }
        XCTAssertEqual(Self.heldCalls(held), 1, "one check waits on the file system")

        try FileManager.default.removeItem(at: gate)
        let deadline = Date().addingTimeInterval(15)
        while try TestHTTP.request("GET", server.url + "/health").status != 200 && Date() < deadline { usleep(200_000) }
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200)
    }

    /// Builds fixtures/preload/statvfs-gate.c into a library to preload.
    private static func compileStatvfsGate(into directory: URL) throws -> URL {
        let library = directory.appendingPathComponent("statvfs-gate.so")
        let source = Binaries.packageRoot.appendingPathComponent("fixtures/preload/statvfs-gate.c")
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC", "-O2", "-o", library.path, source.path, "-ldl"]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else { throw TestFailure("cc could not build \(source.path)") }
        return library
    }

    private static func heldCalls(_ file: URL) -> Int {
        (try? Data(contentsOf: file).count) ?? 0
    }
}

/// Statuses of uploads answered on other threads.
private final class UploadAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var answered: [Int] = []

    func add(_ status: Int) { lock.withLock { answered.append(status) } }
    var statuses: [Int] { lock.withLock { answered } }
}
