import Foundation
import NetcacheProtocol
import XCTest

/// A chunk is stored once whatever release names it: an upgrade adds only its new chunks
/// and index, `admin usage` tells logical from stored bytes, and `export --have` carries
/// to an offline site only what it lacks.
final class ChunkStorageTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    let upgradeURL = "https://lab.example/software/erp5/software-2.cfg"
    var upgradeMD5: String { StreamingDigest.md5Hex(of: upgradeURL) }

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture?.server.stop()
    }

    private func storedBytes() throws -> Int {
        try fixture.server.storedBlobs().reduce(0) { total, path in
            total + ((try FileManager.default.attributesOfItem(atPath: fixture.server.dataDirectory.appendingPathComponent("shacache/" + path).path)[.size] as? Int) ?? 0)
        }
    }

    private func publish(_ url: String, md5: String, version: Int, config: String) throws -> (index: ChunkIndex, blob: [UInt8]) {
        let tree = fixture.softwareRoot + "/" + md5
        try ChunkedTree.make(at: tree, root: fixture.softwareRoot, md5: md5, version: version)
        let published = try netcache("publish", "-c", config, "--software-url", url)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: tree)
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + md5).body)
        let sha512 = try XCTUnwrap(listing.first?.fields?["sha512"]?.stringValue)
        let blob = Array(try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + sha512).body)
        return (try ChunkIndex(decoding: blob), blob)
    }

    func testAnUpgradeAddsLittleAndAnExportCarriesOnlyWhatTheSiteLacks() throws {
        let config = try fixture.config(extra: "binary-cache-legacy-format = false")
        let first = try publish(fixture.softwareURL, md5: fixture.md5, version: 1, config: config)
        let storedFirst = try storedBytes()
        XCTAssertEqual(storedFirst, first.index.storedSize + first.blob.count)
        let second = try publish(upgradeURL, md5: upgradeMD5, version: 2, config: config)
        let added = try storedBytes() - storedFirst
        let secondLogical = second.index.storedSize + second.blob.count
        XCTAssertLessThan(added, secondLogical / 5, "the upgrade added \(added) of its \(secondLogical) bytes")
        let shared = Set(first.index.chunks.map(\.blob))
        let newChunks = Set(second.index.chunks.map(\.blob)).subtracting(shared)
        XCTAssertEqual(added, second.blob.count + second.index.chunks.filter { newChunks.contains($0.blob) }.reduce(into: [String: Int]()) { $0[$1.blob] = $1.blobSize }.values.reduce(0, +))

        // What the site holds: the first release, as a node there kept its index.
        let firstIndex = fixture.directory.appendingPathComponent("first.index").path
        try Data(first.blob).write(to: URL(fileURLWithPath: firstIndex))
        let fullBundle = fixture.directory.appendingPathComponent("first.tar").path
        let full = try netcache("export", "--data", fixture.server.dataDirectory.path, "-k", "netcache:" + fixture.md5, "-o", fullBundle)
        XCTAssertEqual(full.output, "1 entries, \(shared.count + 1) blobs\n", full.stderr)
        let delta = fixture.directory.appendingPathComponent("delta.tar").path
        let exported = try netcache("export", "--data", fixture.server.dataDirectory.path, "-k", "netcache:" + upgradeMD5, "--have", firstIndex, "-o", delta)
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertEqual(exported.output, "1 entries, \(newChunks.count + 1) blobs\n", exported.stderr)
        let sameDelta = fixture.directory.appendingPathComponent("same-delta.tar").path
        let fromBundle = try netcache("export", "--data", fixture.server.dataDirectory.path, "-k", "netcache:" + upgradeMD5, "--have", fullBundle, "-o", sameDelta)
        XCTAssertEqual(fromBundle.output, exported.output, fromBundle.stderr)
        let notABundle = try netcache("export", "--data", fixture.server.dataDirectory.path, "--have", config, "-o", sameDelta)
        XCTAssertEqual(notABundle.status, 1)
        XCTAssertTrue(notABundle.stderr.contains("--have \(config): neither a bundle nor a chunk index"), notABundle.stderr)
        // A zstd frame larger than any index a node reads is refused, not read whole.
        let huge = fixture.directory.appendingPathComponent("huge.index").path
        try Data([0x28, 0xB5, 0x2F, 0xFD]).write(to: URL(fileURLWithPath: huge))
        XCTAssertEqual(truncate(huge, off_t(ChunkIndex.blobSizeLimit + 1)), 0)
        let tooLarge = try netcache("export", "--data", fixture.server.dataDirectory.path, "--have", huge, "-o", sameDelta)
        XCTAssertEqual(tooLarge.status, 1)
        XCTAssertEqual(tooLarge.stderr, "netcache: error: --have \(huge): larger than a chunk index\n")

        fixture.server.stop()
        let usage = try netcache("admin", "usage", "--json", "--data", fixture.server.dataDirectory.path)
        XCTAssertEqual(usage.status, 0, usage.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: usage.stdout) as? [String: Any])
        XCTAssertEqual(report["bytes"] as? Int, storedFirst + added)
        XCTAssertEqual(report["logical_bytes"] as? Int, storedFirst + secondLogical)

        // The site imports the first bundle, then the delta, and installs the upgrade.
        let site = try TemporaryDirectory.make()
        for bundle in [fullBundle, delta] {
            let imported = try netcache("import", bundle, "--data", site.appendingPathComponent("data").path)
            XCTAssertEqual(imported.status, 0, imported.stderr)
        }
        let siteServer = try ServerProcess(dataDirectory: site)
        defer { siteServer.stop() }
        let siteConfigPath = try fixture.rewritten(config, replacing: fixture.server.url, with: siteServer.url)
        let installed = try netcache("install", "-c", siteConfigPath, "--software-url", upgradeURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let expected = try TemporaryDirectory.make().appendingPathComponent(upgradeMD5).path
        try ChunkedTree.make(at: expected, root: fixture.softwareRoot, md5: upgradeMD5, version: 2)
        try ReleaseTree.assertSameTree(expected, fixture.softwareRoot + "/" + upgradeMD5)
    }
}
