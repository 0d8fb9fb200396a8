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

    // MARK: Helpers

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
