import Foundation
import XCTest

/// `--json` at the end of publish and install: one document on stdout, parsed and checked.
final class JSONSummaryTests: XCTestCase {
    private func document(_ result: CommandResult) throws -> [String: Any] {
        XCTAssertEqual(result.output.split(separator: "\n").count, 1, "one document, nothing else on stdout: \(result.output)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.output)
    }

    func testPublishAndInstallSayWhatTheyDidAsJSON() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        let published = try document(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL, "--json"))
        XCTAssertEqual(published["software_url"] as? String, fixture.softwareURL)
        XCTAssertEqual(published["outcome"] as? String, "published")
        let archives = try XCTUnwrap(published["archives"] as? [[String: Any]])
        XCTAssertEqual(archives.map { $0["key"] as? String }, ["netcache:\(fixture.md5)", fixture.md5])
        XCTAssertEqual(archives.map { $0["format"] as? String }, ["chunks", "gzip"])
        XCTAssertEqual(archives.map { $0["state"] as? String }, ["published", "published"])
        XCTAssertTrue(archives.allSatisfy { ($0["size"] as? Int ?? 0) > 0 && ($0["sha512"] as? String)?.count == 128 }, "\(archives)")
        let leftOut = try XCTUnwrap(published["left_out"] as? [[String: String]])
        XCTAssertTrue(leftOut.contains { $0["path"] == ".netrc" }, "\(leftOut)")
        XCTAssertNotNil(published["seconds"] as? Double)

        let again = try document(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL, "--json"))
        XCTAssertEqual((again["archives"] as? [[String: Any]])?.map { $0["state"] as? String }, ["unchanged", "unchanged"])

        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)
        let installedResult = try netcache("install", "-c", config, "--software-url", fixture.softwareURL, "--json")
        XCTAssertEqual(installedResult.status, 0, installedResult.stderr)
        let installed = try document(installedResult)
        XCTAssertEqual(installed["installed"] as? Bool, true)
        XCTAssertEqual(installed["path"] as? String, fixture.release)
        XCTAssertEqual(installed["key"] as? String, "netcache:\(fixture.md5)")
        XCTAssertEqual(installed["format"] as? String, "chunks")
        XCTAssertEqual(installed["sha512"] as? String, archives[0]["sha512"] as? String)
        XCTAssertEqual(installed["size"] as? Int, archives[0]["size"] as? Int)
        try ReleaseTree.assertSameTree(original, fixture.release)

        let refusedResult = try netcache("install", "-c", config, "--software-url", fixture.softwareURL, "--json")
        XCTAssertEqual(refusedResult.status, 3)
        let refused = try document(refusedResult)
        XCTAssertEqual(refused["installed"] as? Bool, false)
        XCTAssertEqual(refused["reason"] as? String, "\(fixture.release) is already there, installed or built before; nothing was changed")
    }
}
