import Foundation
import XCTest

@testable import BinaryCache
@testable import NetcacheClient

/// Validly signed entries whose relocation lies: a manifest path that reaches outside the
/// tree or names what the archive does not hold, offsets beyond a file, roots that cannot
/// be moved to. Each is refused like a blob that is not what its entry signed (the next
/// entry is tried; if none installs, exit 1 with one line naming the entry and the path),
/// nothing outside staging is touched, and staging is gone.
final class RelocationManifestAttackTests: XCTestCase {
    typealias Item = BinaryCacheFixture.Item

    var fixture: BinaryCacheFixture!
    /// Where the entries claim to have been built: longer than the fixture's root.
    var builtUnder: String!
    var victim: String!
    var other: String!

    override func setUpWithError() throws {
        setlocale(LC_ALL, "C.UTF-8")
        fixture = try BinaryCacheFixture()
        builtUnder = fixture.directory.appendingPathComponent("software-root-built-under-a-longer-path").path
        // `<root>/.netcache-install-XXXXXX/<md5>/../../../victim`.
        victim = fixture.directory.appendingPathComponent("victim").path
        other = fixture.directory.appendingPathComponent("other").path
        for path in [victim!, other!] {
            try Data("names \(builtUnder!)/\(fixture.md5)/bin\n".utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    override func tearDown() {
        fixture?.server.stop()
    }

    /// A tree with a file holding the built-under root, a symlink and a link to outside,
    /// for the release at `url`.
    private func archive(for url: String) throws -> [UInt8] {
        let md5 = BinaryEntry.legacyKey(softwareURL: url)
        return try fixture.archive([
            .directory(md5), .directory(md5 + "/bin"), .file(md5 + "/bin/tool"),
            .symlink(md5 + "/bin/link", target: builtUnder + "/" + md5 + "/bin/tool"),
            .symlink(md5 + "/escape", target: fixture.directory.path),
            .symlink(md5 + "/e\u{600}", target: fixture.directory.path),
        ], fileSize: 512)
    }

    @discardableResult
    private func publish(manifest lines: [String], url: String? = nil) throws -> String {
        let url = url ?? fixture.softwareURL
        let relocation = try fixture.uploadManifest(lines, builtUnder: builtUnder)
        return try fixture.publishArchive(try archive(for: url), softwareURL: url, filedUnder: url, builtUnder: builtUnder, relocation: relocation)
    }

    /// The request lines of the last `install`, as they reached the server.
    private var requests: [String] = []

    private func install(_ url: String? = nil) throws -> CommandResult {
        let recorded = try fixture.recorded(try fixture.config())
        defer { requests = recorded.proxy.requests }
        return try netcache("install", "-c", recorded.config, "--software-url", url ?? fixture.softwareURL)
    }

    private func assertOutsideUntouched(installed: Set<String> = [], file: StaticString = #filePath, line: UInt = #line) throws {
        for path in [victim!, other!] {
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "names \(builtUnder!)/\(fixture.md5)/bin\n", path, file: file, line: line)
        }
        XCTAssertEqual(try fixture.strayEntries(besides: installed), [], "staging or a partial tree was left", file: file, line: line)
    }

    /// Each case is a release of its own, so that only its entry is on trial.
    private func assertRefused(_ lines: [String], naming words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = fixture.softwareURL + "?case=" + UUID().uuidString
        let sha512 = try publish(manifest: lines, url: url)
        let result = try install(url)
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        for word in [String(sha512.prefix(12))] + words {
            XCTAssertTrue(result.stderr.contains(word), "stderr does not name \(word): \(result.stderr)", file: file, line: line)
        }
        try assertOutsideUntouched(file: file, line: line)
    }

    func testAManifestReachingOutsideTheTreeDeletesAndRewritesNothing() throws {
        let sha512 = try publish(manifest: [#"["bytecode","../../../victim",[6]]"#, #"["text","../../../other",[6]]"#])
        let result = try install()
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(String(sha512.prefix(12))), result.stderr)
        XCTAssertTrue(result.stderr.contains("'../../../victim': a '..' component"), result.stderr)
        try assertOutsideUntouched()
        XCTAssertTrue(requests.contains { $0.hasPrefix("GET /shadir/") }, "\(requests)")
        XCTAssertEqual(requests.filter { $0.contains("/shacache/" + sha512) }, [], "the archive was fetched although its manifest was refused")
    }

    func testEveryPathThatIsNotANormalRelativeOneIsRefused() throws {
        let cases: [(String, String)] = [
            (#"["text","/etc/passwd",[0]]"#, "an absolute path"),
            (#"["text","bin//tool",[0]]"#, "an empty component"),
            (#"["text","./bin/tool",[0]]"#, "a '.' component"),
            (#"["elf","bin/../../x",[0]]"#, "a '..' component"),
            (#"["symlink","bin/link\u0000x"]"#, "a NUL byte"),
            (#"["binary","",[0]]"#, "an empty path"),
        ]
        for (line, reason) in cases {
            try assertRefused([line], naming: [reason])
        }
    }

    func testAManifestContradictedByTheArchiveIsRefused() throws {
        let cases: [([String], String)] = [
            ([#"["text","bin/missing",[0]]"#], "bin/missing, which the archive does not hold"),
            ([#"["text","bin/link",[0]]"#], "bin/link as a file; the archive holds another kind"),
            ([#"["text","bin",[0]]"#], "bin as a file"),
            ([#"["symlink","bin/tool"]"#], "bin/tool as a symlink"),
            ([#"["text","escape/victim",[6]]"#], "escape is not a directory"),
            ([#"["text","e\u0600/victim",[6]]"#], "is not a directory"),
            ([#"["symlink","e\u0600/victim"]"#], "is not a directory"),
            (["[\"text\",\"\(String(repeating: "x", count: 300))/a\",[0]]"], "a component longer than 255 bytes"),
            ([#"["text","bin/tool",[500]]"#], "no room for software_root at byte 500 (512 bytes)"),
            ([#"["text","bin/tool",[3]]"#], "bin/tool holds no software_root starting a path at byte 3"),
            ([#"["text","bin/tool",[1,0]]"#], "offsets that are not increasing"),
            ([#"["shell","bin/tool",[1]]"#], "an unknown kind"),
            ([#"["text","bin/tool"]"#], "without offsets"),
            (["not json"], "line 1: a line that is not JSON"),
        ]
        for (lines, words) in cases {
            try assertRefused(lines, naming: [words])
        }
    }

    func testARefusedEntryLeavesTheNextOneToInstall() throws {
        let hostile = try publish(manifest: [#"["text","../../../other",[6]]"#])
        let release = builtUnder + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/bin", withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho \(release)/bin\n".utf8).write(to: URL(fileURLWithPath: release + "/bin/tool"))
        let config = try String(contentsOfFile: try fixture.config(), encoding: .utf8)
            .replacingOccurrences(of: "software_root = \(fixture.softwareRoot)\n", with: "software_root = \(builtUnder!)\n")
        let builder = fixture.directory.appendingPathComponent("builder.cfg").path
        try config.write(toFile: builder, atomically: true, encoding: .utf8)
        let published = try netcache("publish", "-c", builder, "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)

        let result = try install()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(hostile.prefix(12)): relocation manifest, line 1: '../../../other': a '..' component; trying the next entry"), result.stderr)
        let padded = fixture.softwareRoot + String(repeating: "/", count: builtUnder.count - fixture.softwareRoot.count + 1) + fixture.md5
        XCTAssertEqual(try String(contentsOfFile: fixture.release + "/bin/tool", encoding: .utf8), "#!/bin/sh\necho \(padded)/bin\n")
        try assertOutsideUntouched(installed: [fixture.md5])
    }

    /// An entry without software_root whose relocation says it was built under a root
    /// shorter than this machine's: it cannot move here, and says so.
    func testAnEntryWithoutARootAndAShorterOriginIsNotInstalledAndNothingCrashes() throws {
        let shorter = "/srv/s"
        let relocation = try fixture.uploadManifest([#"["text","bin/tool",[0]]"#], builtUnder: shorter)
        try fixture.publishArchive(try archive(for: fixture.softwareURL), builtUnder: "", relocation: relocation)
        let result = try install()
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("built for software_root \(shorter), this machine uses \(fixture.softwareRoot); a tree relocates to a path no longer than the one it was built under"), result.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])
    }

    func testAnEntryWhoseRootAndOriginDisagreeIsNotInstalled() throws {
        let relocation = try fixture.uploadManifest([#"["text","bin/tool",[0]]"#], builtUnder: builtUnder + "-elsewhere")
        try fixture.publishArchive(try archive(for: fixture.softwareURL), builtUnder: builtUnder, relocation: relocation)
        let result = try install()
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("software_root \(builtUnder!) and relocation.from \(builtUnder!)-elsewhere disagree"), result.stderr)
    }

    func testAManifestLargerThanSignedIsRefused() throws {
        var relocation = try fixture.uploadManifest([#"["text","bin/tool",[0]]"#], builtUnder: builtUnder)
        let signed = try XCTUnwrap(relocation.manifest)
        relocation.manifest = .init(sha512: signed.sha512, size: signed.size - 1)
        let sha512 = try fixture.publishArchive(try archive(for: fixture.softwareURL), builtUnder: builtUnder, relocation: relocation)
        let result = try install()
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(sha512.prefix(12)): relocation manifest \(signed.sha512.prefix(12)): more than the \(signed.size - 1) bytes its entry signed"), result.stderr)
        try assertOutsideUntouched()
    }
}
