import Foundation
import NIOCore
import NetcacheProtocol
import XCTest

@testable import NetcacheServer

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
