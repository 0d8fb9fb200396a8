import Foundation
import NetcacheProtocol
import XCTest

@testable import BinaryCache
@testable import NetcacheClient

/// Validly signed chunk indexes built to attack the installer, and chunks that are not what
/// their index signed: each is refused with one line naming what is wrong, nothing is left
/// in software_root, and nothing outside it is touched.
final class HostileChunkIndexTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    var decoy: String!
    var top: String { fixture.md5 }

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        let outside = fixture.directory.appendingPathComponent("outside").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        decoy = outside + "/decoy"
        try Data("decoy content".utf8).write(to: URL(fileURLWithPath: decoy))
    }

    override func tearDown() {
        fixture.server.stop()
    }

    /// Uploads `contents` as chunks and files a trusted entry for an index of `entries`
    /// over them.
    private func publish(_ entries: [ChunkIndexEntry], contents: [[UInt8]], from: String? = nil) throws {
        let cache = try BinaryCacheSettings(file: INIFile(contentsOf: try fixture.config())).uploadCache()
        var references: [ChunkReference] = []
        for content in contents {
            let frame = try content.withUnsafeBytes { try ZstdFrame.compress($0) }
            let blob = try cache.shacache.upload(bytes: frame)
            references.append(ChunkReference(sha512: StreamingDigest.sha512Hex(of: content), size: content.count, blob: blob, blobSize: frame.count))
        }
        let index = ChunkIndex(from: from ?? fixture.softwareRoot, chunks: references, entries: [.directory(path: "", mode: 0o755, mtime: 0)] + entries)
        let record = RelocationRecord(from: fixture.softwareRoot, refusal: nil, manifest: nil)
        try fixture.publishArchive(try index.encoded(), format: .chunks, relocation: record)
    }

    /// Returns the lines of the requests the install made.
    @discardableResult
    private func assertRefused(status: Int32 = 1, mentioning offending: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let recorded = try fixture.recorded(try fixture.config())
        let result = try netcache("install", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(offending), "stderr does not name \(offending): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(try fixture.strayEntries(), [], file: file, line: line)
        XCTAssertEqual(try String(contentsOfFile: decoy, encoding: .utf8), "decoy content", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (decoy as NSString).deletingLastPathComponent), ["decoy"], file: file, line: line)
        return recorded.proxy.requests
    }

    private let content = Array("planted\n".utf8)

    private func indexSHA512() throws -> String {
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + top).body)
        return try XCTUnwrap(listing.first?.fields?["sha512"]?.stringValue)
    }

    private func file(_ path: String, mode: UInt32 = 0o644, roots: [Int] = []) -> ChunkIndexEntry {
        .file(path: path, mode: mode, mtime: 0, size: content.count, length: content.count, roots: roots, releases: [])
    }

    func testADotDotPathIsRefused() throws {
        try publish([file("../../outside/planted")], contents: [content])
        try assertRefused(mentioning: "refusing '..' in archive")
    }

    func testAnAbsolutePathIsRefused() throws {
        let planted = (decoy as NSString).deletingLastPathComponent + "/planted"
        try publish([file(planted)], contents: [content])
        try assertRefused(mentioning: "\(planted.debugDescription): an absolute path")
    }

    func testWritingThroughASymlinkIsRefused() throws {
        let outside = (decoy as NSString).deletingLastPathComponent
        try publish([.symlink(path: "bin", mtime: 0, target: outside, roots: [], releases: []), file("bin/planted")], contents: [content])
        try assertRefused(mentioning: "refusing to write through symlink \(top)/bin")
    }

    func testAHardLinkOutOfTheTreeIsRefused() throws {
        try publish([.hardLink(path: "link", to: "../../outside/decoy")], contents: [])
        try assertRefused(mentioning: "refusing '..' in archive")
    }

    func testASetuidFileIsRefused() throws {
        try publish([file("bin-tool", mode: 0o4755)], contents: [content])
        try assertRefused(mentioning: "refusing setuid/setgid file in archive: \(top)/bin-tool")
    }

    func testARootOffsetWhereTheContentHoldsNoPlaceholderIsRefused() throws {
        let bytes = [UInt8](repeating: 0x61, count: 64)
        let growth = fixture.softwareRoot.utf8.count + 1 - ChunkIndex.placeholder.count
        try publish([.file(path: "script", mode: 0o644, mtime: 0, size: 64 + growth, length: 64, roots: [10], releases: [])], contents: [bytes])
        try assertRefused(mentioning: "script holds no placeholder at byte 10")
    }

    func testFilesAndChunksThatDisagreeAreRefusedBeforeAnyChunkIsFetched() throws {
        try publish([file("short")], contents: [content + content])
        try assertRefused(mentioning: "chunks entry \(try indexSHA512().prefix(12)): files hold 8 bytes, chunks 16")
    }

    /// A cache serving other bytes for a chunk's address, even a valid frame of the same
    /// size, is caught by the frame's SHA-512.
    func testAChunkThatIsNotWhatItsIndexSignedIsRefused() throws {
        try publish([file("data")], contents: [content])
        let frame = try Array("replaced".utf8).withUnsafeBytes { try ZstdFrame.compress($0) }
        let index = try ChunkIndex(decoding: Array(try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + indexSHA512()).body))
        let blob = try XCTUnwrap(index.chunks.first?.blob)
        try Data(frame).write(to: fixture.server.dataDirectory.appendingPathComponent("shacache/\(blob.prefix(2))/\(blob)"))
        try assertRefused(mentioning: "invalid checksum")
    }

    /// The index is held in memory: a signed size beyond what a node reads is refused
    /// before a byte is fetched, not trusted to bound a stream.
    func testAnIndexSignedLargerThanANodeReadsIsRefusedBeforeItIsFetched() throws {
        let record = RelocationRecord(from: fixture.softwareRoot, refusal: nil, manifest: nil)
        let blob = try ChunkIndex(from: fixture.softwareRoot, chunks: [], entries: [.directory(path: "", mode: 0o755, mtime: 0)]).encoded()
        try fixture.publishArchive(blob, format: .chunks, sizes: .init(size: 1 << 40), relocation: record)
        let requests = try assertRefused(mentioning: "an index of \(1 << 40) bytes, more than the \(ChunkIndex.blobSizeLimit) a node reads")
        XCTAssertTrue(requests.contains { $0.hasPrefix("GET /shadir/") }, "\(requests)")
        XCTAssertEqual(requests.filter { $0.contains(StreamingDigest.sha512Hex(of: blob)) }, [], "the index was fetched")
    }

    /// A root spelt otherwise than its entry's (`/tmp//x` for `/tmp/x`) would make each
    /// placeholder stand for a byte more than is written back: refused, not padded.
    func testAnIndexWhoseRootIsSpeltOtherwiseIsRefused() throws {
        let spelt = fixture.softwareRoot.replacingOccurrences(of: "/slapgrid", with: "//slapgrid")
        let bytes = Array("x".utf8) + ChunkIndex.placeholder + Array("bin\n".utf8)
        let growth = spelt.utf8.count + 1 - ChunkIndex.placeholder.count
        try publish([.file(path: "script", mode: 0o644, mtime: 0, size: bytes.count + growth, length: bytes.count, roots: [1], releases: [])],
                    contents: [bytes], from: spelt)
        try assertRefused(mentioning: "built under \(spelt), where its entry says \(fixture.softwareRoot)")
    }

    func testAnIndexThatIsNotOneIsRefused() throws {
        let record = RelocationRecord(from: fixture.softwareRoot, refusal: nil, manifest: nil)
        try fixture.publishArchive(try Array("{}".utf8).withUnsafeBytes { try ZstdFrame.compress($0) }, format: .chunks, relocation: record)
        try assertRefused(mentioning: "chunk index: netcache:\(top) chunks entry \(try indexSHA512().prefix(12)): not version 1 of the format")
    }
}
