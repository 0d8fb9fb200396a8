import Foundation
import NetcacheProtocol
import XCTest

/// The server under faults injected at random into its own system calls (libfiu), with
/// dozens of clients at once: it stays up, answers 5xx where its I/O failed (or cuts a
/// transfer already under way), never serves anything partial, and every upload and
/// entry it answered 201 is whole after a restart without faults. The same for a mirror
/// between its clients and a sound upstream, and for the S3 and PostgreSQL backends,
/// real engines behind a faulty server. Only the netcache server runs under faults.
final class ServerFaultTests: XCTestCase {
    /// Every posix I/O call: files, directories, sockets (`FaultInjection.serverFaults`).
    private static let faults = "posix/io/*"
    private static let clients = 32
    private static let requests = 8

    func testTheDataDirectoryUnderFaultsServesNothingPartialAndKeepsEvery201() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try FaultyServer(directory: directory)
        let blobs = try seed(server.url, count: 6)
        let report = try traffic(on: server, probability: 0.02, blobs: blobs)
        try assertHealed(server, after: report)

        let restarted = try ServerProcess(dataDirectory: directory)
        defer { restarted.stop() }
        try assertKept(report, by: restarted.url)
        XCTAssertEqual(restarted.stagedFiles(), [], "staging files survived the restart")
        for file in restarted.storedBlobs() {
            let bytes = try Data(contentsOf: restarted.dataDirectory.appendingPathComponent("shacache/" + file))
            XCTAssertEqual(StreamingDigest.sha512Hex(of: Array(bytes)), (file as NSString).lastPathComponent, "partial blob \(file)")
        }
    }

    /// Blobs and entries that only upstream has go through the faulty mirror; uploads to
    /// the mirror stay on it.
    func testAMirrorUnderFaultsBetweenItsClientsAndUpstreamServesNothingPartialAndKeepsEvery201() throws {
        let upstream = try ServerProcess()
        defer { upstream.stop() }
        let blobs = try seed(upstream.url, count: 16)
        var upstreamEntries: [String: Set<ShadirEntry>] = [:]
        for (index, key) in ConcurrentTraffic.keys.enumerated() {
            let info = "{\"sha512\": \"\(blobs.keys.sorted()[index])\", \"upstream\": true}"
            let filed = try TestHTTP.request("PUT", upstream.shadirURL + "/" + key, body: Array(JSONValue.array([.string(info), .string("")]).pythonJSON.utf8))
            XCTAssertEqual(filed.status, 201, filed.text)
            upstreamEntries[key] = [ShadirEntry(info: info, signature: "")]
        }
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Upstream is asked every time: no back-off after a fault looked like an outage,
        // no remembered miss, no listing served from memory.
        let mirrorArguments = [
            "--upstream-cache", upstream.shacacheURL, "--upstream-dir", upstream.shadirURL,
            "--upstream-backoff", "0", "--upstream-negative-ttl", "0", "--upstream-dir-ttl", "0",
        ]
        let mirror = try FaultyServer(arguments: mirrorArguments, directory: directory)
        let report = try traffic(on: mirror, probability: 0.02, blobs: blobs, upstreamEntries: upstreamEntries)
        try assertHealed(mirror, after: report)

        let restarted = try ServerProcess(arguments: mirrorArguments, dataDirectory: directory)
        defer { restarted.stop() }
        try assertKept(report, by: restarted.url)
        for (sha512, _) in report.created {
            XCTAssertEqual(try TestHTTP.request("HEAD", upstream.shacacheURL + "/" + sha512).status, 404, "an upload to the mirror reached upstream")
        }
        XCTAssertEqual(restarted.stagedFiles(), [], "staging files survived the restart")
        for file in restarted.storedBlobs() {
            let bytes = try Data(contentsOf: restarted.dataDirectory.appendingPathComponent("shacache/" + file))
            XCTAssertEqual(StreamingDigest.sha512Hex(of: Array(bytes)), (file as NSString).lastPathComponent, "partial blob \(file)")
        }
        for (sha512, bytes) in blobs {
            let blob = try TestHTTP.request("GET", restarted.shacacheURL + "/" + sha512)
            XCTAssertEqual(blob.status, 200, "upstream's \(sha512.prefix(16))…")
            XCTAssertEqual(blob.body, bytes, "upstream's \(sha512.prefix(16))…")
        }
    }

    /// The engines are real and sound; the server between them and the clients is not.
    func testS3AndPostgreSQLBehindAFaultyServerHoldNothingPartialAndKeepEvery201() throws {
        let bucket = try Engines.freshBucket()
        let arguments = try Engines.serverArguments(bucket: bucket, database: try Engines.freshDatabase())
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try FaultyServer(arguments: arguments, directory: directory, environment: Engines.s3Credentials)
        let blobs = try seed(server.url, count: 6)
        // More of it: a PUT stuck in PostgresNIO shows in one run in four at 8 requests each.
        let report = try traffic(on: server, probability: 0.03, blobs: blobs, requests: 16)
        try assertHealed(server, after: report)

        let restarted = try ServerProcess(arguments: arguments, dataDirectory: directory, environment: Engines.s3Credentials)
        defer { restarted.stop() }
        try assertKept(report, by: restarted.url)
        for key in try Engines.objects(in: bucket) {
            let object = try Engines.s3("GET", "/\(bucket)/\(key)")
            XCTAssertEqual(object.status, 200, key)
            XCTAssertEqual("blobs/" + StreamingDigest.sha512Hex(of: Array(object.body)), key, "partial object \(key)")
        }
    }

    /// Uploads `count` blobs of a few hundred KiB to 1.5 MiB (several chunks each for a
    /// download) without faults.
    private func seed(_ url: String, count: Int) throws -> [String: [UInt8]] {
        var blobs: [String: [UInt8]] = [:]
        for _ in 0..<count {
            let bytes = ConcurrentTraffic.randomBytes(Int.random(in: 256 << 10...1536 << 10))
            let stored = try TestHTTP.request("POST", url + "/shacache", body: bytes)
            XCTAssertEqual(stored.status, 201, stored.text)
            blobs[stored.text] = bytes
        }
        return blobs
    }

    /// The clients' requests with the server's calls failing at `probability`; the faults
    /// end with the run. Faults really happened (5xx) and work got done all the same, the
    /// clients overlapped, and no answer broke a rule of `ConcurrentTraffic`.
    private func traffic(
        on server: FaultyServer, probability: Double, blobs: [String: [UInt8]], upstreamEntries: [String: Set<ShadirEntry>] = [:],
        requests: Int = requests, file: StaticString = #filePath, line: UInt = #line
    ) throws -> ConcurrentTraffic.Report {
        let traffic = ConcurrentTraffic(url: server.url, blobs: blobs, upstreamEntries: upstreamEntries)
        try server.control(FaultInjection.serverFaults(Self.faults, probability: probability))
        let report = traffic.run(clients: Self.clients, requests: requests)
        if server.process.isRunning { try server.control(FaultInjection.healing(Self.faults)) }
        let context = "\(report.summary)\n\(server.log.suffix(3000))"
        XCTAssertFalse(report.unfinished, "requests still unanswered after 120 s: \(context)", file: file, line: line)
        XCTAssertEqual(report.violations, [], context, file: file, line: line)
        XCTAssertGreaterThan(report.answers(500...599), 0, "no fault showed: \(context)", file: file, line: line)
        XCTAssertGreaterThan(report.created.count, 0, "no upload went through: \(context)", file: file, line: line)
        XCTAssertGreaterThan(report.statuses["download"]?.counts[200] ?? 0, 0, "no download went through: \(context)", file: file, line: line)
        XCTAssertGreaterThan(report.filed.count, 0, "no entry was filed: \(context)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(report.peakInFlight, Self.clients / 2, "the clients did not overlap: \(context)", file: file, line: line)
        return report
    }

    /// Once the faults end, the faulty server is still there and works: ready, an upload
    /// and an entry filed and served; and it stops on SIGTERM.
    private func assertHealed(_ server: FaultyServer, after report: ConcurrentTraffic.Report, file: StaticString = #filePath, line: UInt = #line) throws {
        guard server.process.isRunning else {
            let ended = server.process.terminationReason == .uncaughtSignal ? "signal" : "exit status"
            return XCTFail("the server died under faults (\(ended) \(server.process.terminationStatus)): \(server.log.suffix(5000))", file: file, line: line)
        }
        let health = try TestHTTP.request("GET", server.url + "/health")
        XCTAssertEqual(health.status, 200, health.text, file: file, line: line)
        let bytes = ConcurrentTraffic.randomBytes(100_000)
        let stored = try TestHTTP.request("POST", server.shacacheURL, body: bytes)
        XCTAssertEqual(stored.status, 201, stored.text, file: file, line: line)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + stored.text).body, bytes, file: file, line: line)
        let info = "{\"sha512\": \"\(stored.text)\", \"healed\": true}"
        let filed = try TestHTTP.request("PUT", server.shadirURL + "/faults:healed", body: Array(JSONValue.array([.string(info), .string("")]).pythonJSON.utf8))
        XCTAssertEqual(filed.status, 201, filed.text, file: file, line: line)
        let listing = try TestHTTP.request("GET", server.shadirURL + "/faults:healed")
        XCTAssertEqual(try ShadirListing.parse(listing.body), [ShadirEntry(info: info, signature: "")], file: file, line: line)
        let ended = server.stop()
        XCTAssertFalse(ended.hung, "SIGTERM did not stop the server within 15 s\(ended.threads)", file: file, line: line)
        XCTAssertFalse(ended.signalled, "the server died of a signal: \(server.log.suffix(5000))", file: file, line: line)
        XCTAssertEqual(ended.status, 0, server.log.suffix(3000).description, file: file, line: line)
    }

    /// Every upload and entry answered 201 is there, whole, on the server restarted without
    /// faults.
    private func assertKept(_ report: ConcurrentTraffic.Report, by url: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for (sha512, bytes) in report.created {
            let blob = try TestHTTP.request("GET", url + "/shacache/" + sha512)
            XCTAssertEqual(blob.status, 200, "\(sha512.prefix(16))… answered 201 under faults", file: file, line: line)
            XCTAssertEqual(blob.body, bytes, "\(sha512.prefix(16))… answered 201 under faults", file: file, line: line)
        }
        for (key, entries) in report.filed {
            let listing = try TestHTTP.request("GET", url + "/shadir/" + key)
            XCTAssertEqual(listing.status, 200, key, file: file, line: line)
            let listed = Set(try ShadirListing.parse(listing.body))
            XCTAssertEqual(entries.subtracting(listed), [], "entries of \(key) answered 201 under faults are missing", file: file, line: line)
        }
    }
}
