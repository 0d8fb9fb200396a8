import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache

/// FastCDC as the chunk format defines it: bounded sizes, the same cuts however the bytes
/// arrive, and an insertion that moves only the chunks around it.
final class ContentDefinedChunkerTests: XCTestCase {
    private func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 11)
        }
    }

    private func chunks(of bytes: [UInt8], pieces: Int = 1) throws -> [[UInt8]] {
        let chunker = ContentDefinedChunker()
        var result: [[UInt8]] = []
        let step = max(1, bytes.count / pieces)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + step + offset % 7)
            try bytes[offset..<end].withUnsafeBytes { piece in try chunker.append(piece) { result.append(Array($0)) } }
            offset = end
        }
        try chunker.finish { result.append(Array($0)) }
        return result
    }

    /// Part of the format: a different table would cut every release differently.
    func testTheGearTableIsTheFormatsOwn() {
        XCTAssertEqual(ContentDefinedChunker.gear.count, 256)
        XCTAssertEqual(Set(ContentDefinedChunker.gear).count, 256)
        XCTAssertEqual(String(ContentDefinedChunker.gear[0], radix: 16), "8520a381ff6ceee3")
    }

    func testChunksAreBoundedAndCoverTheStreamWhateverThePieces() throws {
        let bytes = noise(3 << 20, seed: 42)
        let whole = try chunks(of: bytes)
        XCTAssertEqual(Array(whole.joined()), bytes)
        for chunk in whole.dropLast() {
            XCTAssertGreaterThanOrEqual(chunk.count, ContentDefinedChunker.minimum)
            XCTAssertLessThanOrEqual(chunk.count, ContentDefinedChunker.maximum)
        }
        XCTAssertGreaterThan(whole.count, 20)
        XCTAssertLessThan(whole.count, 120)
        XCTAssertEqual(try chunks(of: bytes, pieces: 997), whole, "cuts depend on how the bytes arrived")
        // Runs of one byte never match a cut: maximal chunks.
        XCTAssertEqual(try chunks(of: [UInt8](repeating: 0, count: 600 << 10)).map(\.count), [256 << 10, 256 << 10, 88 << 10])
    }

    func testAnInsertionMovesOnlyTheChunksAroundIt() throws {
        let original = noise(4 << 20, seed: 7)
        var changed = original
        changed.insert(contentsOf: Array("a few bytes more".utf8), at: 2 << 20)
        let before = Set(try chunks(of: original).map { StreamingDigest.sha512Hex(of: $0) })
        let after = try chunks(of: changed).map { StreamingDigest.sha512Hex(of: $0) }
        let new = after.filter { !before.contains($0) }
        XCTAssertLessThanOrEqual(new.count, 2, "\(new.count) of \(after.count) chunks changed")
        XCTAssertGreaterThanOrEqual(new.count, 1)
    }
}
