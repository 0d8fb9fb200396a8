import Foundation
import Logging
import NIOCore
import NetcacheProtocol
import XCTest

@testable import NetcacheServer

/// `admin sweep` beside live servers: what is filed, uploaded or looked up while it runs
/// keeps its blob, on the embedded storage and on PostgreSQL with S3 (the real engines).
final class SweepTests: XCTestCase {
    /// The issue's reproduction, with the release's own commands: a sweep walking a large
    /// bucket, and a client that finds the last blob of the walk by HEAD and files an entry
    /// naming it while the sweep is removing blobs, that is after it read the entries.
    func testAnEntryFiledForAStoredBlobWhileTheSweepWalksKeepsTheBlob() async throws {
        let (bucket, database) = (try Engines.freshBucket(), try Engines.freshDatabase())
        let shared = try Engines.serverArguments(bucket: bucket, database: database)
        let directory = try TemporaryDirectory.make()
        let server = try ServerProcess(arguments: shared, dataDirectory: directory, environment: Engines.s3Credentials)
        // The blob the sweep comes to last: its address sorts after every other one.
        var seed: UInt64 = 0
        var last = [UInt8]()
        repeat {
            seed += 1
            last = Array("the blob named during the sweep, \(seed)".utf8)
        } while !Interop.sha512(Data(last)).hasPrefix("ff")
        let lastSHA = Interop.sha512(Data(last))
        let count = 120
        for index in 0..<count {
            let blob = Array("an unreferenced blob, \(index)".utf8)
            guard !Interop.sha512(Data(blob)).hasPrefix("ff") else { continue }
            XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        }
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: last).status, 201)
        let stored = try Engines.objects(in: bucket).count
        sleep(1)

        // The sweep talks to S3 through a proxy that holds its removals: once the first is
        // held, the sweep has read the entries and the listing and decided on one blob.
        let s3 = try Engines.s3Endpoint()
        let proxy = try GatedProxy(upstream: s3, holding: { $0.hasPrefix("DELETE ") })
        let arguments = ["admin", "sweep", "--retain-unreferenced", "0", "--apply", "--data", directory.appendingPathComponent("admin").path]
            + shared.map { $0 == s3 ? proxy.url : $0 }
        let sweep = Task.detached { try NetcacheTests.run(Binaries.netcache, arguments, environment: Engines.s3Credentials) }
        let held = try XCTUnwrap(proxy.firstHeld(within: 60), "the sweep asked S3 to remove nothing")
        XCTAssertFalse(held.contains(lastSHA), "the sweep came to the blob named during it first")
        XCTAssertEqual(try Engines.objects(in: bucket).count, stored, "a removal got past the proxy")
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + lastSHA).status, 200)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:during=1", body: Self.entry(lastSHA)).status, 201)
        proxy.open()
        let swept = try await sweep.value
        XCTAssertEqual(swept.status, 0, swept.stderr)
        XCTAssertFalse(swept.output.contains(lastSHA), "the sweep removed the blob an entry named meanwhile")
        XCTAssertEqual(swept.output.split(separator: "\n").filter { $0.hasPrefix("removed ") }.count, stored - 1, String(swept.output.suffix(300)))
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + lastSHA).body, last)
        XCTAssertEqual(try Engines.objects(in: bucket), ["blobs/" + lastSHA])
        let removals = proxy.requests.filter { $0.hasPrefix("DELETE ") }
        XCTAssertEqual(removals.count, stored - 1)
        XCTAssertFalse(removals.contains { $0.contains(lastSHA) }, "the sweep asked S3 to remove the blob an entry named meanwhile")
    }

    /// In-process, on each storage: the entry directory's decision holds for an entry filed
    /// after the sweep read the entries (the walk's end files it); on PostgreSQL with S3,
    /// also for a HEAD and a second upload of a stored blob, which a server marks.
    func testWhatIsFiledUploadedOrLookedUpDuringASweepKeepsItsBlob() async throws {
        for (name, blobs, entries) in try storages() {
            try await withBackends(blobs: blobs, entries: entries) { backends in
                let embedded = name == "embedded"
                var shas: [String] = []
                for index in 0..<5 { shas.append(try await Self.put(Array("blob \(index) of the sweep".utf8), into: backends.blobs, marks: backends.entries)) }
                // 0: named by an entry filed after the entries were read; 1: found by a HEAD
                // then; 2: uploaded again then; 3: named before the sweep; 4: left alone.
                try await backends.entries.add(key: "pypi:before=1", body: Self.entry(shas[3]))
                let marked = shas
                let hooked = WalkHook(store: backends.blobs) {
                    try await backends.entries.add(key: "pypi:during=1", body: Self.entry(marked[0]))
                    try await backends.entries.markUse(of: [marked[1]], storing: false)
                    _ = try await Self.put(Array("blob 2 of the sweep".utf8), into: backends.blobs, marks: backends.entries)
                }
                // Every blob counts as old: only the marks keep them.
                let swept = try await CacheAdministration(blobs: hooked, entries: backends.entries).sweepUnreferenced(unusedSince: Date().addingTimeInterval(60), dryRun: false)
                // No server runs beside an embedded sweep (the data directory's lock): uploads
                // and HEADs mark nothing there.
                XCTAssertEqual(swept.map(\.sha512), embedded ? [shas[1], shas[2], shas[4]].sorted() : [shas[4]], name)
                for sha in embedded ? [shas[0], shas[3]] : Array(shas.prefix(4)) {
                    let size = try await backends.blobs.size(of: sha)
                    XCTAssertNotNil(size, name)
                }
                let gone = try await backends.blobs.size(of: shas[4])
                XCTAssertNil(gone, name)
            }
        }
    }

    /// A mark made while the sweep decides on its blob waits for the decision; the blob once
    /// removed, an entry naming it is refused until it is uploaded again, and HEAD says 404.
    func testAnEntryFiledWhileTheSweepRemovesItsBlobIsRefusedUntilTheBlobIsBack() async throws {
        let (bucket, database) = (try Engines.freshBucket(), try Engines.freshDatabase())
        let directory = try TemporaryDirectory.make()
        let server = try ServerProcess(arguments: try Engines.serverArguments(bucket: bucket, database: database), dataDirectory: directory, environment: Engines.s3Credentials)
        let blob = Array("a blob swept while an entry names it".utf8)
        let sha = Interop.sha512(Data(blob))
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        try await withBackends(blobs: .s3(try s3Settings(bucket: bucket)), entries: .postgresql(try PostgresAddress(database))) { backends in
            let epoch = try await backends.entries.beginSweep()
            let marked = Marked()
            let removed = try await backends.entries.sweep(sha, in: epoch, unusedSince: Date().addingTimeInterval(60)) {
                let entries = backends.entries
                Task {
                    try await entries.markUse(of: [sha], storing: false)
                    marked.set()
                }
                try await Task.sleep(for: .milliseconds(500))
                XCTAssertFalse(marked.isSet, "a HEAD's mark went through while the sweep was removing its blob")
                try await backends.blobs.remove(sha)
            }
            XCTAssertTrue(removed)
            let refused = try TestHTTP.request("PUT", server.shadirURL + "/pypi:raced=1", body: Self.entry(sha))
            XCTAssertEqual(refused.status, 409, refused.text)
            XCTAssertTrue(refused.text.contains("was removed by a sweep while this entry was filed"), refused.text)
            XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/pypi:raced=1").status, 404)
            XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + sha).status, 404)
            XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
            XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:raced=1", body: Self.entry(sha)).status, 201)
            try await backends.entries.endSweep(epoch)
        }
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha).body, blob)
    }

    /// A HEAD marks only a blob that is there: anonymous HEADs of made-up addresses write
    /// nothing to PostgreSQL, and one of a stored blob renews its mark.
    func testOnlyAHeadOfAStoredBlobMarksIt() throws {
        let database = try Engines.freshDatabase()
        let shared = try Engines.serverArguments(bucket: try Engines.freshBucket(), database: database)
        let server = try ServerProcess(arguments: shared, dataDirectory: try TemporaryDirectory.make(), environment: Engines.s3Credentials)
        defer { server.stop() }
        for index in 0..<20 {
            let madeUp = Interop.sha512(Data("never stored \(index)".utf8))
            XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + madeUp).status, 404)
        }
        XCTAssertEqual(try Engines.sql(database, "SELECT count(*) FROM blob_use"), ["0"])
        let blob = Array("stored, then looked up".utf8)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        let marked = { try Engines.sql(database, "SELECT sequence FROM blob_use WHERE sha512 = '\(Interop.sha512(Data(blob)))'") }
        let afterUpload = try marked()
        XCTAssertEqual(afterUpload.count, 1)
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + Interop.sha512(Data(blob))).status, 200)
        let afterHead = try marked()
        XCTAssertEqual(afterHead.count, 1)
        XCTAssertGreaterThan(Int(afterHead.first ?? "") ?? 0, Int(afterUpload.first ?? "") ?? 0, "the HEAD renewed the mark")
    }

    /// Uploading a stored blob again is a use: a sweep counts from it.
    func testUploadingAStoredBlobAgainRenewsItsLastUse() async throws {
        let directory = try TemporaryDirectory.make()
        var server = try ServerProcess(dataDirectory: directory)
        let blob = Array("a blob uploaded twice".utf8)
        let sha = Interop.sha512(Data(blob))
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        server.stop()
        let file = server.dataDirectory.appendingPathComponent("shacache/\(sha.prefix(2))/\(sha)").path
        XCTAssertEqual(try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/touch"), ["-d", "40 days ago", file]).status, 0)
        server = try ServerProcess(dataDirectory: directory)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        server.stop()
        let dry = try NetcacheTests.run(Binaries.netcache, ["admin", "sweep", "--retain-unreferenced", "30", "--data", server.dataDirectory.path])
        XCTAssertEqual(dry.output, "0 unreferenced blob(s), 0 bytes, not removed (dry run: give --apply)\n", dry.stderr)

        // On S3, the object's last modification moves.
        let shared = try Engines.serverArguments(bucket: try Engines.freshBucket(), database: try Engines.freshDatabase())
        let sharedDirectory = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: sharedDirectory, withIntermediateDirectories: true)
        server = try ServerProcess(arguments: shared, dataDirectory: sharedDirectory, environment: Engines.s3Credentials)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        let admin = ["admin", "sweep", "--retain-unreferenced", "0", "--data", sharedDirectory.appendingPathComponent("admin").path] + shared
        sleep(2)
        let before = try NetcacheTests.run(Binaries.netcache, admin, environment: Engines.s3Credentials)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201)
        sleep(2)
        let after = try NetcacheTests.run(Binaries.netcache, admin, environment: Engines.s3Credentials)
        let lastUse = { (result: CommandResult) in result.output.split(separator: "\n").first.flatMap { $0.split(separator: " ").last }.flatMap { try? Date(String($0), strategy: .iso8601) } }
        let (first, second) = (try XCTUnwrap(lastUse(before), before.output + before.stderr), try XCTUnwrap(lastUse(after), after.output + after.stderr))
        XCTAssertGreaterThanOrEqual(second.timeIntervalSince(first), 1, "\(before.output)\(after.output)")
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + sha).body, blob)
    }

    // MARK: Helpers

    private static func entry(_ sha512: String) -> String {
        JSONValue.array([.string(#"{"sha512": "\#(sha512)"}"#), .string("")]).pythonJSON
    }

    private static func entry(_ sha512: String) -> [UInt8] {
        Array((Self.entry(sha512) as String).utf8)
    }

    private func storages() throws -> [(String, BlobBackend, EntryBackend)] {
        [("embedded", .dataDirectory, .dataDirectory), ("S3 and PostgreSQL", .s3(try s3Settings(bucket: try Engines.freshBucket())), .postgresql(try PostgresAddress(try Engines.freshDatabase())))]
    }

    private func s3Settings(bucket: String) throws -> S3Settings {
        S3Settings(
            location: S3Location("s3://\(bucket)/blobs")!, endpoint: URL(string: try Engines.s3Endpoint()),
            credentials: S3Credentials(accessKeyID: "test:tester", secretAccessKey: "testing"))
    }

    private func withBackends(blobs: BlobBackend, entries: EntryBackend, _ body: (StorageBackends) async throws -> Void) async throws {
        let directory = try TemporaryDirectory.make()
        let staging = try Staging(dataDirectory: directory, minimumFreeSpace: 0)
        let backends = try StorageBackends(blobs: blobs, entries: entries, dataDirectory: directory, staging: staging, logger: Logger(label: "test"))
        try await backends.run { try await body(backends) }
    }

    /// An upload as the server makes it: marked before it is kept.
    private static func put(_ bytes: [UInt8], into store: any BlobStorage, marks: any EntryDirectory) async throws -> String {
        let staged = try store.beginUpload()
        try await store.append(ByteBuffer(bytes: bytes), to: staged)
        return try await store.commit(staged) { try await marks.markUse(of: [$0], storing: true) }
    }
}

/// Whether something happened, across tasks.
private final class Marked: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}

/// A real blob store, with something done once its walk is over: between the sweep's reading
/// of the entries and its decisions.
private struct WalkHook: BlobStorage {
    let store: any BlobStorage
    let afterWalk: @Sendable () async throws -> Void

    var staging: Staging { store.staging }
    func keep(_ blob: StagedBlob, as sha512: String) async throws { try await store.keep(blob, as: sha512) }
    func size(of sha512: String) async throws -> Int? { try await store.size(of: sha512) }
    func read(_ sha512: String, range: Range<Int>, to consume: (ByteBuffer) async throws -> Void) async throws { try await store.read(sha512, range: range, to: consume) }
    func lastUsed(_ sha512: String) async throws -> Date? { try await store.lastUsed(sha512) }
    func touch(_ sha512: String) async throws { try await store.touch(sha512) }
    func remove(_ sha512: String) async throws { try await store.remove(sha512) }
    func checkHealth() async throws { try await store.checkHealth() }
    func withLocalFile<T>(_ sha512: String, _ body: (String) async throws -> T) async throws -> T { try await store.withLocalFile(sha512, body) }

    func forEachAddress(_ body: (String) async throws -> Void) async throws {
        try await store.forEachAddress(body)
        try await afterWalk()
    }
}
