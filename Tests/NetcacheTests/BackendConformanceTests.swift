import Foundation
import Logging
import NIOCore
import NetcacheProtocol
import XCTest

@testable import NetcacheServer

/// One suite per seam, run against every implementation: the data directory's blob store
/// and the S3 one (on the real Swift S3 API), SQLite's entry directory and PostgreSQL's.
final class BackendConformanceTests: XCTestCase {
    func testTheDataDirectoryBlobStoreKeepsTheContract() async throws {
        try await withBackends(blobs: .dataDirectory) { try await BlobStoreContract.check($0.blobs) }
    }

    func testTheS3BlobStoreKeepsTheContract() async throws {
        try await withBackends(blobs: .s3(try s3Settings())) { try await BlobStoreContract.check($0.blobs) }
    }

    func testTheSQLiteEntryDirectoryKeepsTheContract() async throws {
        try await withBackends(entries: .dataDirectory) { try await EntryDirectoryContract.check($0.entries) }
    }

    func testThePostgreSQLEntryDirectoryKeepsTheContract() async throws {
        let database = try Engines.freshDatabase()
        try await withBackends(entries: .postgresql(try PostgresAddress(database))) { try await EntryDirectoryContract.check($0.entries) }
    }

    func testAStartWithAMissingBucketOrAWrongSecretSaysSo() async throws {
        var settings = try s3Settings()
        settings.location = S3Location("s3://no-such-bucket-here")!
        await assertFails(blobs: .s3(settings), saying: "no such bucket")
        settings = try s3Settings()
        settings.credentials = S3Credentials(accessKeyID: "test:tester", secretAccessKey: "wrong")
        await assertFails(blobs: .s3(settings), saying: "access denied")
    }

    func testAStartOnAnUnreachableDatabaseSaysSo() async throws {
        let closed = try SilentListener.closedPortURL().replacingOccurrences(of: "http://", with: "postgresql://netcache@")
        await assertFails(entries: .postgresql(try PostgresAddress(closed + "/netcache?sslmode=disable")), saying: "cannot use PostgreSQL at postgresql://netcache@127.0.0.1:")
    }

    func testTheSweepAbortsMultipartUploadsLeftBehindAndNoOthers() async throws {
        let settings = try s3Settings()
        try await withBackends(blobs: .s3(settings)) { backends in
            let store = try XCTUnwrap(backends.blobs as? S3BlobStore)
            let left = try await store.client.send(store.client.request(.POST, key: settings.location.key(for: "left"), query: [("uploads", "")]), named: "create")
            XCTAssertEqual(left.0.status.code, 200)
            XCTAssertEqual(try Engines.pendingUploads(in: settings.location.bucket), [settings.location.prefix + "left"])
            let sweep = S3UploadSweep(store: store, logger: Logger(label: "test"))
            // Younger than the age given: kept, since a live server may be sending it.
            let got1 = try await sweep.sweep(olderThan: .seconds(3600))
            XCTAssertEqual(got1, 0)
            try await Task.sleep(for: .seconds(2))
            let got2 = try await sweep.sweep(olderThan: .seconds(1))
            XCTAssertEqual(got2, 1)
            XCTAssertEqual(try Engines.pendingUploads(in: settings.location.bucket), [])
        }
    }

    /// S3 refuses single copies above 5 GiB: past `copyThreshold` (lowered here), a renewal
    /// copies the blob onto itself in parts, as does uploading it again.
    func testTheS3RenewalOfALargeBlobCopiesItInParts() async throws {
        let settings = try s3Settings()
        try await withBackends(blobs: .s3(settings)) { backends in
            var store = try XCTUnwrap(backends.blobs as? S3BlobStore)
            store.copyThreshold = 6 << 20
            let content = (0..<(20 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 5 ^ $0) }
            let sha512 = try await Self.put(content, into: store)
            let stored = try await store.lastUsed(sha512)
            try await Task.sleep(for: .seconds(2))
            try await store.touch(sha512)
            let touched = try await store.lastUsed(sha512)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(touched).timeIntervalSince(try XCTUnwrap(stored)), 1)
            let head = try await store.client.send(store.client.request(.HEAD, key: settings.location.key(for: sha512)), named: "HEAD")
            // A multipart object's ETag ends in its number of parts: 16 MiB (S3BlobStore.minimumPartSize), then 4.
            XCTAssertEqual(head.0.headers.first(name: "etag").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).hasSuffix("-2") }, true, "\(head.0.headers)")
            try await Task.sleep(for: .seconds(2))
            let again = try await Self.put(content, into: store)
            XCTAssertEqual(again, sha512)
            let uploaded = try await store.lastUsed(sha512)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(uploaded).timeIntervalSince(try XCTUnwrap(touched)), 1)
            var read: [UInt8] = []
            try await store.read(sha512, range: 0..<content.count) { read += $0.readableBytesView }
            XCTAssertEqual(StreamingDigest.sha512Hex(of: read), sha512)
            XCTAssertEqual(try Engines.pendingUploads(in: settings.location.bucket), [])
        }
    }

    /// A read waits `readStall` at most for S3 (lowered here), but not on its consumer.
    func testAnS3ReadThatStallsFailsAndASlowReaderDoesNot() async throws {
        let settings = try s3Settings()
        try await withBackends(blobs: .s3(settings)) { backends in
            var store = try XCTUnwrap(backends.blobs as? S3BlobStore)
            store.readStall = .seconds(1)
            let content = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let sha512 = try await Self.put(content, into: store)

            var chunks = 0
            try await store.read(sha512, range: 0..<content.count) { _ in
                chunks += 1
                if chunks == 1 { try await Task.sleep(for: .seconds(2)) }
            }

            let gate = TestGate()
            defer { gate.open() }
            let proxy = try CuttingProxy(upstream: try Engines.s3Endpoint(), behaviour: .holdEveryResponse(after: 256 << 10, until: gate))
            var proxied = settings
            proxied.endpoint = try XCTUnwrap(URL(string: proxy.url))
            var stalled = S3BlobStore(settings: proxied, http: store.client.http, staging: store.staging)
            stalled.readStall = .seconds(1)
            let started = ContinuousClock.now
            do {
                try await stalled.read(sha512, range: 0..<content.count) { _ in }
                XCTFail("a read through a stalled S3 ended")
            } catch {
                XCTAssertTrue("\(error)".contains("S3 sent nothing for 1 s"), "\(error)")
            }
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "the read waited for the stalled S3")
        }
    }

    /// Old, but still receiving parts: another server is sending it.
    func testTheSweepKeepsAnOldMultipartUploadThatStillReceivesParts() async throws {
        let settings = try s3Settings()
        try await withBackends(blobs: .s3(settings)) { backends in
            let store = try XCTUnwrap(backends.blobs as? S3BlobStore)
            let key = settings.location.key(for: "slow")
            let (_, created) = try await store.client.send(store.client.request(.POST, key: key, query: [("uploads", "")]), named: "create")
            let uploadID = try XCTUnwrap(try S3XML(created).values["UploadId"])
            try await Task.sleep(for: .seconds(3.5))
            var part = store.client.request(.PUT, key: key, query: [("partNumber", "1"), ("uploadId", uploadID)], headers: [("content-length", "1024")])
            part.body = .bytes(ByteBuffer(repeating: 7, count: 1024))
            _ = try await store.client.send(part, named: "part")
            let sweep = S3UploadSweep(store: store, logger: Logger(label: "test"))
            let kept = try await sweep.sweep(olderThan: .seconds(3))
            XCTAssertEqual(kept, 0)
            XCTAssertEqual(try Engines.pendingUploads(in: settings.location.bucket), [key])
            try await Task.sleep(for: .seconds(4))
            let aborted = try await sweep.sweep(olderThan: .seconds(3))
            XCTAssertEqual(aborted, 1)
            XCTAssertEqual(try Engines.pendingUploads(in: settings.location.bucket), [])
        }
    }

    // MARK: Helpers

    private static func put(_ bytes: [UInt8], into store: any BlobStorage) async throws -> String {
        let staged = try store.beginUpload()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + (1 << 20))
            try await store.append(ByteBuffer(bytes: bytes[offset..<end]), to: staged)
            offset = end
        }
        return try await store.commit(staged)
    }

    private func s3Settings() throws -> S3Settings {
        S3Settings(
            location: S3Location("s3://\(try Engines.freshBucket())/blobs")!, endpoint: URL(string: try Engines.s3Endpoint()),
            credentials: S3Credentials(accessKeyID: "test:tester", secretAccessKey: "testing"))
    }

    private func open(blobs: BlobBackend, entries: EntryBackend) throws -> StorageBackends {
        let directory = try TemporaryDirectory.make()
        let staging = try Staging(dataDirectory: directory, minimumFreeSpace: 0)
        return try StorageBackends(blobs: blobs, entries: entries, dataDirectory: directory, staging: staging, logger: Logger(label: "test"))
    }

    private func withBackends(blobs: BlobBackend = .dataDirectory, entries: EntryBackend = .dataDirectory, _ body: (StorageBackends) async throws -> Void) async throws {
        let backends = try open(blobs: blobs, entries: entries)
        try await backends.run { try await body(backends) }
    }

    private func assertFails(blobs: BlobBackend = .dataDirectory, entries: EntryBackend = .dataDirectory, saying expected: String, line: UInt = #line) async {
        do {
            try await open(blobs: blobs, entries: entries).run {}
            XCTFail("started", line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
    }
}
