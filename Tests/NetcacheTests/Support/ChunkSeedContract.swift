import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache

/// What every chunk seed does: gives back the exact bytes of a chunk it holds, nothing for
/// one it does not, and nothing (never other bytes) once what it held was changed.
enum ChunkSeedContract {
    /// A seed holding at least three chunks (made from `contents`, as the seed stores
    /// them), and how to spoil what it holds of one.
    struct Subject {
        let seed: any ChunkSeed
        let held: [(ChunkReference, [UInt8])]
        let spoil: (ChunkReference) throws -> Void
    }

    /// Three distinct contents of a few kilobytes.
    static let contents = (0..<3).map { index in (0..<(5000 + index * 917)).map { UInt8(truncatingIfNeeded: $0 * (index + 3) + $0 >> 5) } }

    static func check(_ make: () throws -> Subject) throws {
        let subject = try make()
        let chunks = subject.held
        let absent = reference(for: Array("not held".utf8))
        XCTAssertFalse(subject.seed.holds(absent))
        XCTAssertNil(subject.seed.bytes(of: absent))
        for (chunk, bytes) in chunks {
            XCTAssertTrue(subject.seed.holds(chunk), subject.seed.name)
            XCTAssertEqual(subject.seed.bytes(of: chunk), bytes, subject.seed.name)
        }
        // Same size and name, other bytes: a reference that lies about its content.
        let liar = ChunkReference(sha512: chunks[0].0.sha512, size: chunks[1].0.size, blob: chunks[0].0.blob, blobSize: 1)
        XCTAssertNil(subject.seed.bytes(of: liar), subject.seed.name)
        try subject.spoil(chunks[1].0)
        XCTAssertNil(subject.seed.bytes(of: chunks[1].0), "\(subject.seed.name) gave spoilt bytes")
        XCTAssertEqual(subject.seed.bytes(of: chunks[2].0), chunks[2].1, subject.seed.name)
    }

    static func reference(for bytes: [UInt8]) -> ChunkReference {
        let frame = bytes.withUnsafeBytes { try? ZstdFrame.compress($0) } ?? []
        return ChunkReference(sha512: StreamingDigest.sha512Hex(of: bytes), size: bytes.count, blob: StreamingDigest.sha512Hex(of: frame), blobSize: frame.count)
    }
}
