import Foundation
import XCTest

/// A mistyped data directory is refused by name, never created to look like an empty cache:
/// only `serve`, `import`, `mirror pull --data` and `migrate --to` make one (they fill it),
/// and `serve` says when it does.
final class DataDirectoryPresenceTests: XCTestCase {
    private func commands(_ data: String, scratch: URL) -> [[String]] {
        [
            ["admin", "usage", "--data", data],
            ["admin", "keys", "--data", data],
            ["admin", "sweep", "--retain-unreferenced", "30", "--data", data],
            ["admin", "remove-blob", "--data", data, String(repeating: "a", count: 128)],
            ["admin", "push-refused", "--data", data],
            ["export", "--data", data, "-o", scratch.appendingPathComponent("bundle.tar").path],
            ["migrate", "--from", data, "--to", scratch.appendingPathComponent("copy").path],
        ]
    }

    func testEveryCommandButServeAndImportRefusesADataDirectoryThatIsNotThere() throws {
        let scratch = try TemporaryDirectory.make()
        let missing = scratch.appendingPathComponent("mistyped/dir")
        for arguments in commands(missing.path, scratch: scratch) {
            let result = try netcache(arguments: arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            let option = arguments.contains("--from") ? "--from" : "--data"
            XCTAssertEqual(
                result.stderr, "netcache: error: \(option) \(missing.path): No such file or directory; only serve, import, mirror pull and migrate --to create a data directory\n",
                "\(arguments)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: missing.deletingLastPathComponent().path), "\(arguments) created it")
        }
    }

    func testTheDefaultDataDirectoryIsNotCreatedEither() throws {
        let workingDirectory = try TemporaryDirectory.make()
        let result = try netcache(arguments: ["admin", "usage"], directory: workingDirectory)
        XCTAssertEqual(result.status, 1)
        let expected = workingDirectory.appendingPathComponent("netcache-data").path
        XCTAssertEqual(result.stderr, "netcache: error: --data \(expected): No such file or directory; only serve, import, mirror pull and migrate --to create a data directory\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: workingDirectory.path), [])
    }

    func testADirectoryThatIsNotADataDirectoryIsRefusedAndLeftAsItWas() throws {
        let scratch = try TemporaryDirectory.make()
        let other = scratch.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        for arguments in commands(other.path, scratch: scratch) {
            let result = try netcache(arguments: arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            let option = arguments.contains("--from") ? "--from" : "--data"
            XCTAssertEqual(
                result.stderr, "netcache: error: \(option) \(other.path): not a netcache data directory (it holds no lock, shadir.sqlite or shacache)\n",
                "\(arguments)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), [], "\(arguments)")
        }
    }

    /// Import may create its target, but not for a bundle it cannot read.
    func testImportOfAMissingBundleCreatesNothing() throws {
        let scratch = try TemporaryDirectory.make()
        let target = scratch.appendingPathComponent("site")
        let bundle = scratch.appendingPathComponent("mistyped.tar").path
        let result = try netcache("import", "--data", target.path, bundle)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "netcache: error: cannot read \(bundle): No such file or directory\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
    }

    func testServeSaysWhenItCreatesADataDirectoryAndTheOthersThenTakeIt() throws {
        let parent = try TemporaryDirectory.make()
        let first = try ServerProcess(dataDirectory: parent)
        XCTAssertEqual(try TestHTTP.request("POST", first.shacacheURL, body: Array("kept".utf8)).status, 201)
        first.stop()
        XCTAssertTrue(first.log.contains("creating a new data directory at \(first.dataDirectory.path)"), first.log)
        let again = try ServerProcess(dataDirectory: parent)
        again.stop()
        XCTAssertFalse(again.log.contains("creating a new data directory"), again.log)

        let usage = try netcache("admin", "usage", "--data", first.dataDirectory.path)
        XCTAssertEqual(usage.status, 0, usage.stderr)
        XCTAssertTrue(usage.output.contains("blobs: 1, 4 bytes"), usage.output)
    }
}
