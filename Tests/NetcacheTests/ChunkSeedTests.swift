import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache

/// The chunk cache, against the seed contract.
final class ChunkCacheSeedTests: XCTestCase {
    func testTheChunkCacheKeepsItsPromises() throws {
        let directory = try TemporaryDirectory.make().appendingPathComponent("chunks").path
        try ChunkSeedContract.check {
            let cache = try ChunkCache(path: directory, limit: 1 << 20)
            let chunks = ChunkSeedContract.contents.map { (ChunkSeedContract.reference(for: $0), $0) }
            for (chunk, bytes) in chunks { XCTAssertNil(cache.keep(chunk, bytes: bytes)) }
            return ChunkSeedContract.Subject(seed: cache, held: chunks) { chunk in
                try Data(repeating: 0x55, count: chunk.size).write(to: URL(fileURLWithPath: directory + "/" + chunk.sha512))
            }
        }
    }

    /// Trimmed least recently used first, down to its bound.
    func testTheChunkCacheTrimsTheLeastRecentlyUsed() throws {
        let directory = try TemporaryDirectory.make().appendingPathComponent("chunks").path
        let cache = try ChunkCache(path: directory, limit: 12_000)
        let chunks = (0..<3).map { index in [UInt8](repeating: UInt8(index), count: 5000) }
        let references = chunks.map(ChunkSeedContract.reference(for:))
        for (index, chunk) in chunks.enumerated() {
            XCTAssertNil(cache.keep(references[index], bytes: chunk))
            var times = [timespec(tv_sec: 1_000_000 + index, tv_nsec: 0), timespec(tv_sec: 1_000_000 + index, tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, directory + "/" + references[index].sha512, &times, 0), 0)
        }
        XCTAssertNotNil(cache.bytes(of: references[0]), "reading makes the oldest the most recent")
        cache.trim()
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory)), [references[0].sha512, references[2].sha512])
    }
}

/// The releases installed in software_root, against the seed contract: each chunk is read
/// back from a tree whose files hold the node's root and the release's name where the
/// index has the placeholder and the marker.
final class InstalledTreesSeedTests: XCTestCase {
    func testInstalledTreesKeepTheirPromises() throws {
        let root = try TemporaryDirectory.make().appendingPathComponent("software-root").path
        let md5 = StreamingDigest.md5Hex(of: "https://lab.example/release.cfg")
        let from = "/srv/" + String(repeating: "r", count: 150)
        let padded = root + String(repeating: "/", count: from.count - root.count)
        try FileManager.default.createDirectory(atPath: root + "/" + md5 + "/lib", withIntermediateDirectories: true)
        try ChunkSeedContract.check {
            // One file per chunk, each with a root and the release's name in its middle.
            var entries: [ChunkIndexEntry] = [.directory(path: "", mode: 0o755, mtime: 0), .directory(path: "lib", mode: 0o755, mtime: 0)]
            var held: [(ChunkReference, [UInt8])] = []
            for (number, bytes) in ChunkSeedContract.contents.enumerated() {
                let normalised = Array(bytes[..<100]) + ChunkIndex.placeholder + ChunkIndex.releaseMarker + Array(bytes[100...])
                let real = Array(bytes[..<100]) + Array((padded + "/" + md5).utf8) + Array(bytes[100...])
                try Data(real).write(to: URL(fileURLWithPath: root + "/" + md5 + "/lib/file-\(number)"))
                entries.append(.file(path: "lib/file-\(number)", mode: 0o644, mtime: 0, size: real.count, length: normalised.count, roots: [100], releases: [100]))
                held.append((ChunkSeedContract.reference(for: normalised), normalised))
            }
            let index = ChunkIndex(from: from, chunks: held.map(\.0), entries: entries)
            try FileManager.default.createDirectory(atPath: root + "/" + InstalledTrees.directory, withIntermediateDirectories: true)
            try Data(try index.encoded()).write(to: URL(fileURLWithPath: root + "/" + InstalledTrees.directory + "/" + md5))
            let seed = InstalledTrees(root: open(root, O_RDONLY | O_DIRECTORY))
            return ChunkSeedContract.Subject(seed: seed, held: held) { chunk in
                let number = try XCTUnwrap(held.firstIndex { $0.0 == chunk })
                let path = root + "/" + md5 + "/lib/file-\(number)"
                var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                bytes[bytes.count - 1] ^= 1
                try bytes.write(to: URL(fileURLWithPath: path))
            }
        }
    }

    /// A kept index that escapes the tree, or of a release not installed, seeds nothing.
    func testAHostileOrStaleKeptIndexSeedsNothing() throws {
        let root = try TemporaryDirectory.make().appendingPathComponent("software-root").path
        let md5 = StreamingDigest.md5Hex(of: "https://lab.example/release.cfg")
        let outside = (root as NSString).deletingLastPathComponent + "/secret"
        let bytes = [UInt8](repeating: 7, count: 3000)
        try Data(bytes).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createDirectory(atPath: root + "/" + md5, withIntermediateDirectories: true)
        let reference = ChunkSeedContract.reference(for: bytes)
        let index = ChunkIndex(from: "/opt/slapgrid", chunks: [reference], entries: [
            .directory(path: "", mode: 0o755, mtime: 0),
            .file(path: "../../secret", mode: 0o644, mtime: 0, size: bytes.count, length: bytes.count, roots: [], releases: []),
        ])
        try FileManager.default.createDirectory(atPath: root + "/" + InstalledTrees.directory, withIntermediateDirectories: true)
        try Data(try index.encoded()).write(to: URL(fileURLWithPath: root + "/" + InstalledTrees.directory + "/" + md5))
        let stale = StreamingDigest.md5Hex(of: "https://lab.example/removed.cfg")
        try Data(try index.encoded()).write(to: URL(fileURLWithPath: root + "/" + InstalledTrees.directory + "/" + stale))
        let descriptor = open(root, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        let seed = InstalledTrees(root: descriptor)
        XCTAssertFalse(seed.holds(reference))
        XCTAssertNil(seed.bytes(of: reference))
    }
}

/// Kept indexes only count where this user alone may write them: root does not decode, or
/// hold, indexes software_root's owner planted; and an index of hostile numbers is refused
/// without a trap.
final class KeptIndexOwnershipTests: XCTestCase {
    func testKeptIndexesInADirectoryAnotherUserMayWriteSeedNothing() throws {
        let root = try TemporaryDirectory.make().appendingPathComponent("software-root").path
        let md5 = StreamingDigest.md5Hex(of: "https://lab.example/release.cfg")
        let bytes = [UInt8](repeating: 9, count: 3000)
        try FileManager.default.createDirectory(atPath: root + "/" + md5, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + md5 + "/data"))
        let reference = ChunkSeedContract.reference(for: bytes)
        let index = ChunkIndex(from: "/opt/slapgrid", chunks: [reference], entries: [
            .directory(path: "", mode: 0o755, mtime: 0),
            .file(path: "data", mode: 0o644, mtime: 0, size: bytes.count, length: bytes.count, roots: [], releases: []),
        ])
        let kept = root + "/" + InstalledTrees.directory
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        try Data(try index.encoded()).write(to: URL(fileURLWithPath: kept + "/" + md5))
        let descriptor = open(root, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        chmod(kept, 0o755)
        XCTAssertTrue(InstalledTrees(root: descriptor).holds(reference), "the seed's own directory")
        chmod(kept, 0o777)
        XCTAssertFalse(InstalledTrees(root: descriptor).holds(reference), "a directory anyone may write")
        XCTAssertNotNil(InstalledTrees.keep(try index.encoded(), md5: md5, root: descriptor), "kept in a directory anyone may write")
        if getuid() == 0 {
            chmod(kept, 0o755)
            XCTAssertEqual(chown(kept, 65534, 65534), 0)
            XCTAssertFalse(InstalledTrees(root: descriptor).holds(reference), "a directory another user owns")
            XCTAssertNotNil(InstalledTrees.keep(try index.encoded(), md5: md5, root: descriptor), "kept in another user's directory")
        }
    }

    func testOffsetsAtTheEndOfTheIntegersAreRefusedWithoutATrap() throws {
        for offsets in ["[9223372036854775807], [9223372036854775807]", "[0, 9223372036854775807], []", "[16, 0], []"] {
            let text = #"{"netcache_chunk_index": 1, "from": "/opt/slapgrid", "placeholder": "@SOFTWARE_ROOT@/", "chunks": [], "#
                + #""entries": [["d", "", 493, 0], ["f", "a", 420, 0, 100, 64, "# + offsets + "]]}"
            let blob = try Array(text.utf8).withUnsafeBytes { try ZstdFrame.compress($0) }
            XCTAssertThrowsError(try ChunkIndex(decoding: blob), offsets) { error in
                XCTAssertTrue("\(error)".contains("root offsets out of order or outside its bytes"), "\(error)")
            }
        }
    }
}
