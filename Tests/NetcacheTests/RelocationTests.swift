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

    private func config(root: String, extra: String = "") throws -> String {
        try fixture.config(root: root, extra: extra)
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

    /// `path` under root A as relocation writes it under `rootB`: B padded with `/` to A's
    /// length, so that no byte after the root moves.
    private func relocated(_ path: String, to rootB: String) -> String {
        rootB + String(repeating: "/", count: rootA.count - rootB.count) + path.dropFirst(rootA.count)
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
        XCTAssertEqual(script.output, "script in \(relocated(release, to: rootB))/bin\n", script.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: moved + "/share/link"), relocated(release, to: rootB) + "/share/data.txt")
        XCTAssertEqual(try String(contentsOfFile: moved + "/etc/config-link", encoding: .utf8), "root=\(relocated(release, to: rootB))\n")
        var first = stat(), second = stat()
        XCTAssertEqual(stat(moved + "/etc/config", &first), 0)
        XCTAssertEqual(stat(moved + "/etc/config-link", &second), 0)
        XCTAssertEqual(first.st_ino, second.st_ino, "a hard-linked file stays one file")
        XCTAssertTrue(try String(contentsOfFile: moved + "/lib/pkgconfig/demo.pc", encoding: .utf8).hasPrefix("prefix=\(relocated(release, to: rootB))\n"))
        let pip = try NetcacheTests.run(URL(fileURLWithPath: moved + "/venv/bin/pip"), ["--version"])
        XCTAssertEqual(pip.status, 0, pip.stderr)
        XCTAssertTrue(pip.output.contains(" from \(moved)/venv/lib/"), pip.output)
    }

    func testALongerRootIsRefusedBeforeAnythingIsWritten() throws {
        let release = try buildTree()
        try publish(from: release)
        let rootC = rootA + "-and-longer"
        try FileManager.default.createDirectory(atPath: rootC, withIntermediateDirectories: true)
        let recorded = try fixture.recorded(try config(root: rootC))
        let refused = try netcache("install", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("a tree relocates to a path no longer than the one it was built under"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootC), [])
        XCTAssertTrue(recorded.proxy.requests.contains { $0.hasPrefix("GET /shadir/") }, "\(recorded.proxy.requests)")
        XCTAssertEqual(recorded.proxy.requests.filter { $0.hasPrefix("GET /shacache/") }, [], "a blob was fetched")
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

    /// Publishes the tree at `release` (under root A), installs it under a shorter root B
    /// and returns where it went.
    private func publishAndInstallUnderB(_ release: String, publishRoot: String? = nil) throws -> (rootB: String, moved: String) {
        let (rootB, installed) = try publishAndTryUnderB(release, publishRoot: publishRoot)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        return (rootB, rootB + "/" + fixture.md5)
    }

    /// Publishes the tree at `release`, removes it, and tries to install it under root B.
    private func publishAndTryUnderB(_ release: String, publishRoot: String? = nil) throws -> (rootB: String, result: CommandResult) {
        let published = try netcache("publish", "-c", try config(root: publishRoot ?? rootA), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: release)
        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        try FileManager.default.createDirectory(atPath: rootB, withIntermediateDirectories: true)
        return (rootB, try netcache("install", "-c", try config(root: rootB), "--software-url", fixture.softwareURL))
    }

    /// With an entry built under B itself and one that would move there, B's own is taken.
    func testAnEntryBuiltUnderThisRootIsTakenBeforeOneThatMoves() throws {
        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        for root in [rootA!, rootB] {
            try FileManager.default.createDirectory(atPath: root + "/" + fixture.md5, withIntermediateDirectories: true)
            try "at \(root)/\(fixture.md5)\n".write(toFile: root + "/" + fixture.md5 + "/where", atomically: true, encoding: .utf8)
            let published = try netcache("publish", "-c", try config(root: root), "--software-url", fixture.softwareURL)
            XCTAssertEqual(published.status, 0, published.stderr)
            try FileManager.default.removeItem(atPath: root + "/" + fixture.md5)
        }
        let installed = try netcache("install", "-c", try config(root: rootB), "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertEqual(try String(contentsOfFile: rootB + "/" + fixture.md5 + "/where", encoding: .utf8), "at \(rootB)/\(fixture.md5)\n")
    }

    /// gcc -Os merges string literals by suffix: "data" is the tail of the path literal.
    /// Relocation must leave every byte after the old root where it was.
    func testStringsTheLinkerSharesKeepTheirTails() throws {
        let release = rootA + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/bin", withIntermediateDirectories: true)
        let source = scratch.appendingPathComponent("shared.c").path
        try """
            #include <stdio.h>
            int main(void) {
                printf("word=%s\\n", "data");
                printf("path=%s\\n", "\(release)/share/data");
                return 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        try CompiledRelease.gcc("-Os", "-o", release + "/bin/shared", source)
        let strings = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/readelf"), ["-p", ".rodata", release + "/bin/shared"])
        let literals = strings.output.split(separator: "\n").compactMap { $0.split(separator: "]", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(literals.contains("\(release)/share/data"), strings.output)
        XCTAssertFalse(literals.contains("data"), "the linker did not merge the literals: this test would prove nothing")
        let (rootB, moved) = try publishAndInstallUnderB(release)
        let run = try NetcacheTests.run(URL(fileURLWithPath: moved + "/bin/shared"), [])
        XCTAssertEqual(run.output, "word=data\npath=\(relocated(release, to: rootB))/share/data\n", run.stderr)
    }

    /// Only where the old root starts a path: not in `/srv<root>/etc` nor `x<root>/y`,
    /// but after `=`, `-L` and `file://`, in text and in binaries alike.
    func testOnlyWholePathsAreRewritten() throws {
        let release = rootA + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: release + "/bin", withIntermediateDirectories: true)
        let lines = ["a=/srv\(release)/etc", "b=\(release)/etc", "c=-L\(release)/lib", "d=file://\(release)/x", "e=x\(release)/y", "\(release)/start"]
        try (lines.joined(separator: "\n") + "\n").write(toFile: release + "/etc/paths", atomically: true, encoding: .utf8)
        let source = scratch.appendingPathComponent("paths.c").path
        try """
            #include <stdio.h>
            int main(void) {
                puts("/srv\(release)/etc");
                puts("\(release)/etc");
                return 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        try CompiledRelease.gcc("-o", release + "/bin/paths", source)
        let (rootB, moved) = try publishAndInstallUnderB(release)
        let new = relocated(release, to: rootB)
        let expected = ["a=/srv\(release)/etc", "b=\(new)/etc", "c=-L\(new)/lib", "d=file://\(new)/x", "e=x\(release)/y", "\(new)/start"]
        XCTAssertEqual(try String(contentsOfFile: moved + "/etc/paths", encoding: .utf8), expected.joined(separator: "\n") + "\n")
        let run = try NetcacheTests.run(URL(fileURLWithPath: moved + "/bin/paths"), [])
        XCTAssertEqual(run.output, "/srv\(release)/etc\n\(new)/etc\n", run.stderr)
    }

    /// `software_root = A/` is A: the manifest is made, and the install under B moves it.
    func testARootSpeltWithATrailingSlashIsTheSameRoot() throws {
        let release = try buildTree()
        let (_, moved) = try publishAndInstallUnderB(release, publishRoot: rootA + "//./")
        XCTAssertEqual(try holding(rootA, under: moved), [])
        let demo = try NetcacheTests.run(URL(fileURLWithPath: moved + "/bin/demo"), [])
        XCTAssertEqual(demo.output, "44 hello from the tree\n", demo.stderr)
    }

    /// A non-root install: a symlink in a directory that the archive makes read-only is
    /// re-pointed before the directory gets its mode, which it then has, with its time.
    func testANonRootInstallRelocatesInReadOnlyDirectories() throws {
        guard getuid() == 0 else { throw TestFailure("this test installs as nobody; run the suite as root, as CI does") }
        let release = rootA + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/share/ro", withIntermediateDirectories: true)
        try "data\n".write(toFile: release + "/share/data.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: release + "/share/ro/link", withDestinationPath: release + "/share/data.txt")
        var times = [timespec(tv_sec: 1_500_000_000, tv_nsec: 0), timespec(tv_sec: 1_500_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, release + "/share/ro", &times, 0), 0)
        XCTAssertEqual(chmod(release + "/share/ro", 0o555), 0)
        // Executable only: its owner must still read and rewrite it, then get its mode back.
        try "#!/bin/sh\n# \(release)/share\n".write(toFile: release + "/share/run", atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(release + "/share/run", 0o111), 0)
        let published = try netcache("publish", "-c", try config(root: rootA), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)

        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        try FileManager.default.createDirectory(atPath: rootB, withIntermediateDirectories: true)
        XCTAssertEqual(chown(rootB, 65534, 65534), 0)
        chmod(fixture.directory.path, 0o755)
        let configB = try config(root: rootB)
        let installed = try NetcacheTests.run(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=65534", "--regid=65534", "--clear-groups", Binaries.netcache.path, "install", "-c", configB, "--software-url", fixture.softwareURL])
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let moved = rootB + "/" + fixture.md5
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: moved + "/share/ro/link"), relocated(release, to: rootB) + "/share/data.txt")
        var status = stat()
        XCTAssertEqual(lstat(moved + "/share/ro", &status), 0)
        XCTAssertEqual(status.st_mode & 0o7777, 0o555)
        XCTAssertEqual(status.st_mtim.tv_sec, 1_500_000_000)
        XCTAssertEqual(status.st_uid, 65534)
        XCTAssertEqual(lstat(moved + "/share/run", &status), 0)
        XCTAssertEqual(status.st_mode & 0o7777, 0o111)
        XCTAssertEqual(try String(contentsOfFile: moved + "/share/run", encoding: .utf8), "#!/bin/sh\n# \(relocated(release, to: rootB))/share\n")
        XCTAssertEqual(try String(contentsOfFile: moved + "/share/ro/link", encoding: .utf8), "data\n")
    }

    /// A tree naming its root in thousands of files: the index lists every occurrence, and
    /// every file moves.
    func testARootNamedInThousandsOfFilesRelocates() throws {
        let release = rootA + "/" + fixture.md5
        let many = release + "/share/a-directory-with-a-long-name-so-that-the-index-grows-quickly"
        try FileManager.default.createDirectory(atPath: many, withIntermediateDirectories: true)
        for index in 0..<9_000 {
            try Data("at \(release)/share\n".utf8).write(to: URL(fileURLWithPath: many + "/file-\(index).txt"))
        }
        let (rootB, moved) = try publishAndInstallUnderB(release)
        let index = try chunkIndex()
        var rooted = 0
        for case .file(_, _, _, _, _, let roots, let releases) in index.entries where roots.count == 1 && releases == roots { rooted += 1 }
        XCTAssertEqual(rooted, 9_000)
        XCTAssertEqual(try holding(rootA, under: moved), [])
        XCTAssertEqual(try String(contentsOfFile: moved + "/share/a-directory-with-a-long-name-so-that-the-index-grows-quickly/file-8999.txt", encoding: .utf8),
                       "at \(relocated(release, to: rootB))/share\n")
    }

    private func chunkIndex() throws -> ChunkIndex {
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).body)
        let sha512 = try XCTUnwrap(listing.first?.fields?["sha512"]?.stringValue)
        return try ChunkIndex(decoding: Array(try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + sha512).body))
    }

    /// Compiled Python modules are rewritten in place, not dropped: relocated, they still
    /// match their sources and are loaded as they are (a root install leaves no writable
    /// place to compile them again). Short roots, so that the marshalled length before a
    /// path is a letter: 66 ('B') for the module's file name, 97 ('a') for the constant.
    func testCompiledPythonModulesAreRelocatedAndStillUsed() throws {
        let shortA = "/tmp/ncA-" + UUID().uuidString.prefix(13).lowercased()
        let shortB = "/tmp/ncB"
        defer { for root in [shortA, shortB] { try? FileManager.default.removeItem(atPath: root) } }
        try? FileManager.default.removeItem(atPath: shortB)
        let release = shortA + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/lib", withIntermediateDirectories: true)
        let constant = release + "/share/" + String(repeating: "x", count: 97 - release.count - 7)
        XCTAssertEqual((release + "/lib/mod.py").utf8.count, 0x42)
        XCTAssertEqual(constant.utf8.count, 0x61)
        let flags = "-I" + release + "/include"
        XCTAssertEqual(flags.utf8.count, 0x41, "a marshalled string that starts with a flag glued to the root")
        try "WHERE = \"\(constant)\"\nFLAGS = \"\(flags)\"\n".write(toFile: release + "/lib/mod.py", atomically: true, encoding: .utf8)
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        let compiled = try NetcacheTests.run(python, ["-m", "compileall", "-q", release + "/lib"])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let published = try netcache("publish", "-c", try config(root: shortA), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: release)
        try FileManager.default.createDirectory(atPath: shortB, withIntermediateDirectories: true)
        let installed = try netcache("install", "-c", try config(root: shortB), "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let moved = shortB + "/" + fixture.md5
        XCTAssertEqual(try holding(shortA, under: moved), [])
        let imported = try NetcacheTests.run(
            python, ["-v", "-c", "import sys; sys.path.insert(0, '\(moved)/lib'); import mod; print(mod.WHERE); print(mod.FLAGS)"],
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        let padding = String(repeating: "/", count: shortA.count - shortB.count)
        XCTAssertEqual(imported.output, shortB + padding + constant.dropFirst(shortA.count) + "\n-I" + shortB + padding + flags.dropFirst(2 + shortA.count) + "\n", imported.stderr)
        XCTAssertTrue(imported.stderr.contains("# code object from '\(moved)/lib/__pycache__/mod.cpython-"), "the compiled module was not used")
    }

    /// The chunks are blobs only the entry's index names: the sweep keeps them,
    /// remove-blob refuses them, export and mirror pull carry them, and a site served from
    /// the bundle relocates.
    func testTheChunksAreKeptExportedAndPulledWithTheirEntry() throws {
        let release = rootA + "/" + fixture.md5
        try CompiledRelease.make(at: release, scratch: scratch)
        // Incompressible data, for more than one chunk.
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        let noise = (0..<(400 << 10)).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        try Data(noise).write(to: URL(fileURLWithPath: release + "/share/noise.bin"))
        let published = try netcache("publish", "-c", try config(root: rootA), "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        try FileManager.default.removeItem(atPath: release)
        let chunks = Set(try chunkIndex().chunks.map(\.blob))
        XCTAssertGreaterThan(chunks.count, 1)

        let pulledSite = try TemporaryDirectory.make().appendingPathComponent("data").path
        let pulled = try netcache("mirror", "pull", "-c", try config(root: rootA), "--software-url", fixture.softwareURL, "--data", pulledSite)
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        XCTAssertTrue(pulled.output.hasPrefix("netcache:\(fixture.md5): 1 entries, \(chunks.count + 1) blobs\n"), pulled.output)
        let bundle = fixture.directory.appendingPathComponent("site.tar").path
        let exported = try netcache("export", "--data", fixture.server.dataDirectory.path, "-o", bundle)
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let upstream = fixture.server.url
        fixture.server.stop()

        let data = fixture.server.dataDirectory.path
        let swept = try netcache("admin", "sweep", "--retain-unreferenced", "0", "--apply", "--data", data)
        XCTAssertEqual(swept.status, 0, swept.stderr)
        let stored = Set(fixture.server.storedBlobs().map { String($0.suffix(128)) })
        XCTAssertTrue(chunks.isSubset(of: stored), "the sweep removed chunks: \(swept.output)")
        let chunk = try XCTUnwrap(chunks.first)
        let removed = try netcache("admin", "remove-blob", chunk, "--data", data)
        XCTAssertEqual(removed.status, 1, removed.stderr)
        XCTAssertTrue(removed.stderr.contains("is named by entries under netcache:\(fixture.md5)"), removed.stderr)

        let site = try TemporaryDirectory.make()
        let imported = try netcache("import", bundle, "--data", site.appendingPathComponent("data").path)
        XCTAssertEqual(imported.output, "\(chunks.count + 2) blobs, 2 entries (2 new)\n", imported.stderr)
        let siteServer = try ServerProcess(dataDirectory: site)
        defer { siteServer.stop() }
        let rootB = fixture.directory.appendingPathComponent("sr-b").path
        try FileManager.default.createDirectory(atPath: rootB, withIntermediateDirectories: true)
        let configB = try config(root: rootB)
        try String(contentsOfFile: configB, encoding: .utf8).replacingOccurrences(of: upstream, with: siteServer.url)
            .write(toFile: configB, atomically: true, encoding: .utf8)
        let installed = try netcache("install", "-c", configB, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let demo = try NetcacheTests.run(URL(fileURLWithPath: rootB + "/" + fixture.md5 + "/bin/demo"), [])
        XCTAssertEqual(demo.output, "44 hello from the tree\n", demo.stderr)
        XCTAssertEqual(try holding(rootA, under: rootB + "/" + fixture.md5), [])
    }

    /// In a binary, the root behind a byte that may be part of a path (here a length,
    /// 'K') cannot be told from another path: the tree is not relocatable, and says why,
    /// rather than keeping the old root where it may be one.
    func testARootInABinaryWhereNoPathStartsMakesTheTreeStay() throws {
        let release = rootA + "/" + fixture.md5
        try FileManager.default.createDirectory(atPath: release + "/share", withIntermediateDirectories: true)
        try Data([0, 0, 0, UInt8(ascii: "K")] + Array("\(release)/share\0".utf8)).write(to: URL(fileURLWithPath: release + "/share/blob.bin"))
        let (rootB, refused) = try publishAndTryUnderB(release)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("not relocatable: share/blob.bin holds software_root at byte 4 where no path starts"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootB), [])
    }
}
