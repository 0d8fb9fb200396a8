import Foundation
import NetcacheProtocol
import XCTest

/// Relocation: a release built under a long software_root A installs under a shorter B and
/// runs there, and is refused under a longer C before anything is written.
final class RelocationTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    var scratch: URL!
    var rootA: String!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        scratch = try TemporaryDirectory.make()
        rootA = fixture.directory.appendingPathComponent("software-root-padded-long-enough-for-any-shorter-one").path
        try FileManager.default.createDirectory(atPath: rootA, withIntermediateDirectories: true)
    }

    override func tearDown() {
        fixture?.server.stop()
    }

    /// slapos.cfg with another software_root.
    private func config(root: String, extra: String = "") throws -> String {
        let text = try String(contentsOfFile: try fixture.config(extra: extra), encoding: .utf8)
            .replacingOccurrences(of: "software_root = \(fixture.softwareRoot)\n", with: "software_root = \(root)\n")
        let path = fixture.directory.appendingPathComponent("slapos-\(UUID().uuidString).cfg").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The program, a script whose shebang points into the tree, a .pc file, an absolute
    /// symlink, a hard-linked file holding the path, and a Python venv with pip.
    private func buildTree() throws -> String {
        let release = rootA + "/" + fixture.md5
        try CompiledRelease.make(at: release, scratch: scratch)
        try FileManager.default.createSymbolicLink(atPath: release + "/bin/sh", withDestinationPath: "/bin/sh")
        try "#!\(release)/bin/sh\necho \"script in \(release)/bin\"\n".write(toFile: release + "/bin/hello", atomically: true, encoding: .utf8)
        chmod(release + "/bin/hello", 0o755)
        try FileManager.default.createDirectory(atPath: release + "/lib/pkgconfig", withIntermediateDirectories: true)
        try "prefix=\(release)\nlibdir=${prefix}/lib\nName: demo\nVersion: 1\nDescription: demo\nLibs: -L${libdir} -ldemo\n"
            .write(toFile: release + "/lib/pkgconfig/demo.pc", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: release + "/share/link", withDestinationPath: release + "/share/data.txt")
        try FileManager.default.createDirectory(atPath: release + "/etc", withIntermediateDirectories: true)
        try "root=\(release)\n".write(toFile: release + "/etc/config", atomically: true, encoding: .utf8)
        XCTAssertEqual(link(release + "/etc/config", release + "/etc/config-link"), 0)
        let venv = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "venv", release + "/venv"])
        XCTAssertEqual(venv.status, 0, venv.stderr)
        return release
    }

    private func publish(from release: String) throws {
        let published = try netcache("publish", "-c", try config(root: rootA), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: release)
    }

    /// Every file and link target under `path` that still holds `needle`.
    private func holding(_ needle: String, under path: String) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            let full = path + "/" + relative
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                if target.contains(needle) { found.append(relative + " -> " + target) }
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: full)
            else { continue }
            if data.range(of: Data(needle.utf8)) != nil { found.append(relative) }
        }
        return found
    }

    func testAReleaseBuiltUnderALongRootRunsUnderAShorterOne() throws {
        let release = try buildTree()
        try publish(from: release)
        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        try FileManager.default.createDirectory(atPath: rootB, withIntermediateDirectories: true)
        let configB = try config(root: rootB)
        let lookup = try netcache("lookup", "binary-sr", "-c", configB, fixture.softwareURL, "--json")
        let rows = try XCTUnwrap(try JSONValue(parsing: Array(lookup.stdout)).arrayValue?.compactMap(\.objectValue))
        XCTAssertEqual(rows.map { $0["relocated_from"] }, [.string(rootA), .null], "the zstd entry relocates; the legacy one does not install")
        let installed = try netcache("install", "-c", configB, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let moved = rootB + "/" + fixture.md5

        XCTAssertEqual(try holding(rootA, under: moved), [])
        let demo = try NetcacheTests.run(URL(fileURLWithPath: moved + "/bin/demo"), [])
        XCTAssertEqual(demo.output, "44 hello from the tree\n", demo.stderr)
        let script = try NetcacheTests.run(URL(fileURLWithPath: moved + "/bin/hello"), [])
        XCTAssertEqual(script.output, "script in \(moved)/bin\n", script.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: moved + "/share/link"), moved + "/share/data.txt")
        XCTAssertEqual(try String(contentsOfFile: moved + "/etc/config-link", encoding: .utf8), "root=\(moved)\n")
        var first = stat(), second = stat()
        XCTAssertEqual(stat(moved + "/etc/config", &first), 0)
        XCTAssertEqual(stat(moved + "/etc/config-link", &second), 0)
        XCTAssertEqual(first.st_ino, second.st_ino, "a hard-linked file stays one file")
        XCTAssertTrue(try String(contentsOfFile: moved + "/lib/pkgconfig/demo.pc", encoding: .utf8).hasPrefix("prefix=\(moved)\n"))
        let pip = try NetcacheTests.run(URL(fileURLWithPath: moved + "/venv/bin/pip"), ["--version"])
        XCTAssertEqual(pip.status, 0, pip.stderr)
        XCTAssertTrue(pip.output.contains(" from \(moved)/venv/lib/"), pip.output)
    }

    func testALongerRootIsRefusedBeforeAnythingIsWritten() throws {
        let release = try buildTree()
        try publish(from: release)
        let rootC = rootA + "-and-longer"
        try FileManager.default.createDirectory(atPath: rootC, withIntermediateDirectories: true)
        let refused = try netcache("install", "-c", try config(root: rootC), "--software-url", fixture.softwareURL)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("a tree relocates to a path no longer than the one it was built under"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootC), [])
        XCTAssertFalse(fixture.server.log.contains("GET /shacache/"), "the archive was fetched")
    }

    func testRelocationCanBeTurnedOff() throws {
        let release = try buildTree()
        try publish(from: release)
        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        try FileManager.default.createDirectory(atPath: rootB, withIntermediateDirectories: true)
        let refused = try netcache("install", "-c", try config(root: rootB, extra: "binary-cache-relocate = false"), "--software-url", fixture.softwareURL)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("(binary-cache-relocate = false)"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootB), [])
    }
}
