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

/// What every blob store does.
enum BlobStoreContract {
    static func check(_ store: any BlobStorage) async throws {
        let content = Array((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })
        let sha512 = StreamingDigest.sha512Hex(of: content)
        let absent = try await store.size(of: sha512)
        XCTAssertNil(absent)

        let got3 = try await put(content, into: store)
        XCTAssertEqual(got3, sha512)
        let size = try await store.size(of: sha512)
        XCTAssertEqual(size, content.count)
        let got4 = try await read(sha512, 0..<content.count, from: store)
        XCTAssertEqual(got4, content)
        let got5 = try await read(sha512, 10..<20, from: store)
        XCTAssertEqual(got5, Array(content[10..<20]))
        let got6 = try await read(sha512, content.count - 1..<content.count, from: store)
        XCTAssertEqual(got6, [content.last!])

        // The same bytes again: one blob.
        let got7 = try await put(content, into: store)
        XCTAssertEqual(got7, sha512)
        let got8 = try await addresses(of: store)
        XCTAssertEqual(got8, [sha512])

        // Bytes that are not the blob they claim to be are not kept under either name.
        let other = Array("not the blob".utf8)
        let staged = try store.beginUpload()
        try await store.append(ByteBuffer(bytes: other), to: staged)
        do {
            _ = try await store.commit(staged, expected: String(repeating: "0", count: 128))
            XCTFail("a mismatching blob was kept")
        } catch is BlobMismatch {}
        let wrongName = try await store.size(of: String(repeating: "0", count: 128))
        XCTAssertNil(wrongName)
        let rightName = try await store.size(of: StreamingDigest.sha512Hex(of: other))
        XCTAssertNil(rightName)
        let got9 = try await addresses(of: store)
        XCTAssertEqual(got9, [sha512])

        // An upload given up leaves nothing.
        let abandoned = try store.beginUpload()
        try await store.append(ByteBuffer(bytes: other), to: abandoned)
        abandoned.discard()
        let got10 = try await addresses(of: store)
        XCTAssertEqual(got10, [sha512])

        // Past S3's multipart threshold, and not a whole number of parts.
        let large = (0..<(70 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 3 ^ $0) }
        let largeSHA = StreamingDigest.sha512Hex(of: large)
        let got11 = try await put(large, into: store)
        XCTAssertEqual(got11, largeSHA)
        let largeSize = try await store.size(of: largeSHA)
        XCTAssertEqual(largeSize, large.count)
        let largeRead = try await read(largeSHA, 0..<large.count, from: store)
        XCTAssertEqual(StreamingDigest.sha512Hex(of: largeRead), largeSHA)
        let across = (16 << 20) - 5..<(16 << 20) + 5
        let got12 = try await read(largeSHA, across, from: store)
        XCTAssertEqual(got12, Array(large[across]))
        let got13 = try await addresses(of: store)
        XCTAssertEqual(got13, [sha512, largeSHA].sorted())

        let copied = try await store.withLocalFile(sha512) { path in try Data(contentsOf: URL(fileURLWithPath: path)) }
        XCTAssertEqual(Array(copied), content)

        try await store.remove(largeSHA)
        let removed = try await store.size(of: largeSHA)
        XCTAssertNil(removed)
        try await store.remove(largeSHA)
        let got14 = try await addresses(of: store)
        XCTAssertEqual(got14, [sha512])
    }

    private static func put(_ bytes: [UInt8], into store: any BlobStorage) async throws -> String {
        let staged = try store.beginUpload()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 1 << 20)
            try await store.append(ByteBuffer(bytes: bytes[offset..<end]), to: staged)
            offset = end
        }
        return try await store.commit(staged)
    }

    private static func read(_ sha512: String, _ range: Range<Int>, from store: any BlobStorage) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await store.read(sha512, range: range) { bytes += $0.readableBytesView }
        return bytes
    }

    private static func addresses(of store: any BlobStorage) async throws -> [String] {
        var addresses: [String] = []
        try await store.forEachAddress { addresses.append($0) }
        return addresses.sorted()
    }
}

/// What every entry directory does.
enum EntryDirectoryContract {
    static func check(_ directory: any EntryDirectory) async throws {
        let key = "file-urlmd5:0123"
        let none = try await directory.bodies(for: key)
        XCTAssertEqual(none, [])
        let noListing = try await directory.listing(for: key)
        XCTAssertNil(noListing)

        let first = #"["{\"sha512\": \"a\"}", "c2ln"]"#
        let second = #"["{\"sha512\": \"b\", \"name\": \"caf\u00e9\"}", "c2ln"]"#
        // The same entry with the same meaning, but other bytes: a second entry.
        let secondSpelledOtherwise = #"["{\"sha512\": \"b\", \"name\": \"café\"}", "c2ln"]"#
        let firstAdded = try await directory.add(key: key, body: first)
        let secondAdded = try await directory.add(key: key, body: second)
        let againAdded = try await directory.add(key: key, body: first)
        let otherAdded = try await directory.add(key: key, body: secondSpelledOtherwise)
        XCTAssertEqual([firstAdded, secondAdded, againAdded, otherAdded], [true, true, false, true])
        let stored = try await directory.bodies(for: key)
        XCTAssertEqual(stored, [first, second, secondSpelledOtherwise])
        let listing = try await directory.listing(for: key)
        XCTAssertEqual(listing.map { String(buffer: $0) }, ShadirListing.render(bodies: [first, second, secondSpelledOtherwise]))

        // Longer than an index entry may be.
        let long = #"["{\"sha512\": \"c\", \"pad\": \""# + String(repeating: "x", count: 100_000) + #"\"}", "c2ln"]"#
        let longAdded = try await directory.add(key: "long", body: long)
        let longAgain = try await directory.add(key: "long", body: long)
        XCTAssertEqual([longAdded, longAgain], [true, false])

        // Twenty writers at once, four of each of five entries: each stored once.
        let racing = (0..<5).map { #"["{\"sha512\": \"r\#($0)\"}", "c2ln"]"# }
        let added = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 { group.addTask { try await directory.add(key: "race", body: racing[index % 5]) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(added, 5)
        let raced = try await directory.bodies(for: "race")
        XCTAssertEqual(raced.sorted(), racing.sorted())

        try await directory.add(key: "later", body: first)
        let keys = try await directory.keys()
        XCTAssertEqual(keys, [key, "long", "race", "later"])
    }
}
