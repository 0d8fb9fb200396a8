import Foundation
import NetcacheProtocol
import XCTest

/// Chunked releases: an upgrade built under another software_root installs from the
/// chunks of the release the node already has, fetching only the rest, into the exact
/// tree; missing and corrupt chunks, and a chunk cache that holds garbage or is full,
/// never give a partial or wrong tree.
final class ChunkedInstallTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    /// Where the builder built: longer than the node's software_root.
    var builderRoot: String!
    let upgradeURL = "https://lab.example/software/erp5/software-2.cfg"
    var upgradeMD5: String { StreamingDigest.md5Hex(of: upgradeURL) }

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        builderRoot = fixture.directory.appendingPathComponent("builder-software-root-longer-than-the-node-one").path
        try FileManager.default.createDirectory(atPath: builderRoot, withIntermediateDirectories: true)
    }

    override func tearDown() {
        fixture?.server.stop()
    }

    private func config(root: String, extra: String = "") throws -> String {
        try fixture.config(root: root, extra: extra)
    }

    /// Builds version 1 (the fixture's release) and 2 (the upgrade) under the builder's
    /// root, publishes both from there, and removes them.
    private func publishBothFromTheBuilder(legacy: Bool = true) throws {
        let builder = try config(root: builderRoot, extra: legacy ? "" : "binary-cache-legacy-format = false")
        for (url, md5, version) in [(fixture.softwareURL, fixture.md5, 1), (upgradeURL, upgradeMD5, 2)] {
            let tree = builderRoot + "/" + md5
            try ChunkedTree.make(at: tree, root: builderRoot, md5: md5, version: version)
            let published = try netcache("publish", "-c", builder, "--software-url", url)
            XCTAssertEqual(published.status, 0, published.stderr)
            try FileManager.default.removeItem(atPath: tree)
        }
    }

    /// The tree as the node must hold it: its root written padded to the builder's length.
    private func expectedTree(md5: String, version: Int) throws -> String {
        let padded = fixture.softwareRoot + String(repeating: "/", count: builderRoot.count - fixture.softwareRoot.count)
        let path = try TemporaryDirectory.make().appendingPathComponent(md5).path
        try ChunkedTree.make(at: path, root: padded, md5: md5, version: version)
        return path
    }

    private func fetchBytes(_ url: String) throws -> [Int?] {
        let lookup = try netcache("lookup", "binary-sr", "-c", try fixture.config(), url, "--json")
        XCTAssertEqual(lookup.status, 0, lookup.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: lookup.stdout) as? [[String: Any]])
        return rows.map { $0["fetch_bytes"] as? Int }
    }

    /// "K of N chunks fetched (B bytes, ..." from `install -v`.
    private func fetched(_ stderr: String) throws -> (chunks: Int, of: Int, bytes: Int) {
        let line = try XCTUnwrap(stderr.split(separator: "\n").first { $0.contains(" chunks fetched (") }, stderr)
        let words = line.split(separator: " ")
        let bytes = try XCTUnwrap(line.components(separatedBy: "fetched (").last?.split(separator: " ").first.flatMap { Int($0) })
        return (try XCTUnwrap(Int(words[1])), try XCTUnwrap(Int(words[3])), bytes)
    }

    func testAnUpgradeBuiltUnderAnotherRootFetchesOnlyWhatChangedIntoTheExactTree() throws {
        try publishBothFromTheBuilder()
        let config = try fixture.config()

        let first = try fetchBytes(fixture.softwareURL)
        let whole = try XCTUnwrap(first[0], "the chunked entry predicts nothing")
        XCTAssertGreaterThan(whole, ChunkedTree.fileCount * ChunkedTree.fileSize, "the noise does not compress: every chunk is fetched")
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL, "-v")
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let firstFetch = try fetched(installed.stderr)
        XCTAssertEqual(firstFetch.chunks, firstFetch.of, installed.stderr)
        XCTAssertGreaterThan(firstFetch.of, 20)
        try ReleaseTree.assertSameTree(try expectedTree(md5: fixture.md5, version: 1), fixture.release)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.softwareRoot + "/.netcache-indexes"), [fixture.md5])

        let predicted = try XCTUnwrap(try fetchBytes(upgradeURL)[0])
        XCTAssertLessThan(predicted, whole / 5, "the upgrade predicts most of its bytes fetched")
        let upgraded = try netcache("install", "-c", config, "--software-url", upgradeURL, "-v")
        XCTAssertEqual(upgraded.status, 0, upgraded.stderr)
        let upgradeFetch = try fetched(upgraded.stderr)
        XCTAssertLessThanOrEqual(upgradeFetch.chunks, 6, upgraded.stderr)
        XCTAssertTrue(upgraded.stderr.contains(" chunks ("), upgraded.stderr)
        XCTAssertTrue(upgraded.stderr.contains(") from releases installed in software_root"), upgraded.stderr)
        XCTAssertLessThanOrEqual(upgradeFetch.bytes, predicted, "fetched more than predicted")
        try ReleaseTree.assertSameTree(try expectedTree(md5: upgradeMD5, version: 2), fixture.softwareRoot + "/" + upgradeMD5)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5, upgradeMD5]), [])
    }

    /// A release built and published on this node seeds its upgrade as an installed one
    /// does: publish keeps its index too.
    func testAReleaseBuiltAndPublishedHereSeedsItsUpgrade() throws {
        let config = try fixture.config()
        try ChunkedTree.make(at: fixture.release, root: fixture.softwareRoot, md5: fixture.md5)
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let upgrade = fixture.softwareRoot + "/" + upgradeMD5
        try ChunkedTree.make(at: upgrade, root: fixture.softwareRoot, md5: upgradeMD5, version: 2)
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", upgradeURL).status, 0)
        try FileManager.default.removeItem(atPath: upgrade)
        let installed = try netcache("install", "-c", config, "--software-url", upgradeURL, "-v")
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertLessThanOrEqual(try fetched(installed.stderr).chunks, 6, installed.stderr)
        let expected = try TemporaryDirectory.make().appendingPathComponent(upgradeMD5).path
        try ChunkedTree.make(at: expected, root: fixture.softwareRoot, md5: upgradeMD5, version: 2)
        try ReleaseTree.assertSameTree(expected, upgrade)
    }

    /// The installed tree seeds only where it still holds what its index says: a file
    /// changed since is fetched again, and the upgrade is still exact.
    func testAChangedInstalledFileIsNotUsedAsASeed() throws {
        try publishBothFromTheBuilder()
        let config = try fixture.config()
        XCTAssertEqual(try netcache("install", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let changed = fixture.release + "/lib/data/part-3.bin"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: changed))
        try handle.seek(toOffset: 5000)
        try handle.write(contentsOf: Data(repeating: 0, count: 20_000))
        try handle.close()
        let upgraded = try netcache("install", "-c", config, "--software-url", upgradeURL, "-v")
        XCTAssertEqual(upgraded.status, 0, upgraded.stderr)
        XCTAssertGreaterThan(try fetched(upgraded.stderr).chunks, 1, upgraded.stderr)
        try ReleaseTree.assertSameTree(try expectedTree(md5: upgradeMD5, version: 2), fixture.softwareRoot + "/" + upgradeMD5)
    }

    /// Without the legacy archive to fall back on: a chunk the server lost is an outage
    /// (build it, exit 3), a chunk that is not what its index signed is an error; neither
    /// leaves anything in software_root.
    func testAMissingOrCorruptChunkLeavesNothing() throws {
        try publishBothFromTheBuilder(legacy: false)
        let config = try fixture.config()
        let index = try chunkIndex(of: fixture.softwareURL)
        let victim = fixture.server.dataDirectory.appendingPathComponent("shacache/\(index.chunks[5].blob.prefix(2))/\(index.chunks[5].blob)")
        let saved = try Data(contentsOf: victim)

        try FileManager.default.removeItem(at: victim)
        let missing = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(missing.status, 3, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("binary cache unavailable: chunks entry"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("HTTP 404"), missing.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])

        var corrupt = saved
        corrupt[corrupt.count / 2] ^= 0xFF
        try corrupt.write(to: victim)
        let refused = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("invalid checksum"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])

        try saved.write(to: victim)
        XCTAssertEqual(try netcache("install", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        try ReleaseTree.assertSameTree(try expectedTree(md5: fixture.md5, version: 1), fixture.release)
    }

    /// With the legacy archive published (built under this node's root: legacy entries do
    /// not move), a lost chunk makes install take the gzip entry.
    func testAMissingChunkFallsBackToTheLegacyArchive() throws {
        try ChunkedTree.make(at: fixture.release, root: fixture.softwareRoot, md5: fixture.md5)
        let expected = try TemporaryDirectory.make().appendingPathComponent(fixture.md5).path
        try ChunkedTree.make(at: expected, root: fixture.softwareRoot, md5: fixture.md5)
        let config = try fixture.config()
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        try FileManager.default.removeItem(atPath: fixture.release)
        let index = try chunkIndex(of: fixture.softwareURL)
        try FileManager.default.removeItem(at: fixture.server.dataDirectory.appendingPathComponent("shacache/\(index.chunks[0].blob.prefix(2))/\(index.chunks[0].blob)"))
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertTrue(installed.output.hasPrefix("installed: \(fixture.release) from \(fixture.md5) (gzip"), installed.output)
        XCTAssertTrue(installed.stderr.contains("chunks entry"), installed.stderr)
        try ReleaseTree.assertSameTree(expected, fixture.release)
    }

    /// The chunk cache seeds a reinstall; a chunk in it that is not what its name says
    /// (garbage, or cut short) is fetched again and replaced, never used.
    func testTheChunkCacheSeedsAndGarbageInItIsNeverUsed() throws {
        try publishBothFromTheBuilder()
        let cache = fixture.directory.appendingPathComponent("chunk-cache").path
        let config = try fixture.config(name: "cached.cfg", extra: "binary-cache-chunk-cache = \(cache)\nbinary-cache-chunk-cache-size = 100M")
        XCTAssertEqual(try netcache("install", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let index = try chunkIndex(of: fixture.softwareURL)
        let unique = Set(index.chunks.map(\.sha512))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: cache)), unique)

        // Only the cache may seed: the tree and its kept index go.
        try FileManager.default.removeItem(atPath: fixture.release)
        try FileManager.default.removeItem(atPath: fixture.softwareRoot + "/.netcache-indexes")
        let garbage = cache + "/" + index.chunks[2].sha512
        try Data(repeating: 0x41, count: index.chunks[2].size).write(to: URL(fileURLWithPath: garbage))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cache + "/" + index.chunks[4].sha512))
        let reinstalled = try netcache("install", "-c", config, "--software-url", fixture.softwareURL, "-v")
        XCTAssertEqual(reinstalled.status, 0, reinstalled.stderr)
        XCTAssertEqual(try fetched(reinstalled.stderr).chunks, 2, reinstalled.stderr)
        XCTAssertTrue(reinstalled.stderr.contains("chunks (\(index.contentLength - index.chunks[2].size - index.chunks[4].size) bytes) from chunk cache \(cache)"), reinstalled.stderr)
        try ReleaseTree.assertSameTree(try expectedTree(md5: fixture.md5, version: 1), fixture.release)
        XCTAssertEqual(StreamingDigest.sha512Hex(of: try Data(contentsOf: URL(fileURLWithPath: garbage))), index.chunks[2].sha512, "the garbage was not replaced")
    }

    /// A chunk cache on a full file system, or smaller than one release, only stops
    /// growing: the install is whole, and the cache stays within its bound.
    func testAFullOrSmallChunkCacheDoesNotStopAnInstall() throws {
        guard getuid() == 0 else { throw TestFailure("this test mounts a tmpfs; run the suite as root, as CI does") }
        try publishBothFromTheBuilder()
        let cache = fixture.directory.appendingPathComponent("full-cache").path
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let mounted = try NetcacheTests.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=300k", "tmpfs", cache])
        XCTAssertEqual(mounted.status, 0, mounted.stderr)
        defer { _ = try? NetcacheTests.run(URL(fileURLWithPath: "/bin/umount"), [cache]) }
        let full = try fixture.config(name: "full.cfg", extra: "binary-cache-chunk-cache = \(cache)")
        let installed = try netcache("install", "-c", full, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        try ReleaseTree.assertSameTree(try expectedTree(md5: fixture.md5, version: 1), fixture.release)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: cache).contains { $0.hasPrefix(".partial-") })

        let small = fixture.directory.appendingPathComponent("small-cache").path
        let bounded = try fixture.config(name: "small.cfg", extra: "binary-cache-chunk-cache = \(small)\nbinary-cache-chunk-cache-size = 200k")
        let upgraded = try netcache("install", "-c", bounded, "--software-url", upgradeURL)
        XCTAssertEqual(upgraded.status, 0, upgraded.stderr)
        let kept = try FileManager.default.contentsOfDirectory(atPath: small).reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: small + "/" + name)[.size] as? Int) ?? 0)
        }
        XCTAssertLessThanOrEqual(kept, 200 << 10)
    }

    private func chunkIndex(of url: String) throws -> ChunkIndex {
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + StreamingDigest.md5Hex(of: url)).body)
        let sha512 = try XCTUnwrap(listing.first?.fields?["sha512"]?.stringValue)
        return try ChunkIndex(decoding: Array(try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + sha512).body))
    }
}
