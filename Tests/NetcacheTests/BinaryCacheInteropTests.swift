import Foundation
import NetcacheProtocol
import XCTest

/// The binary cache against the real, unmodified slapos.core 1.26.1 (in the venv
/// `scripts/interop-venv.sh` makes): what slapgrid uploads after a build, netcache installs;
/// what `netcache publish` files, slapgrid's `download_network_cached` + `tarfile` install;
/// the legacy key only ever holds gzip tars; netcache's fingerprint is what slapos.core
/// records; publishing twice changes nothing. The Python side runs the
/// Tests/interop/slapos_core_*.py scripts.
final class BinaryCacheInteropTests: XCTestCase {
    private var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture?.server.stop()
        if let fixture { try? FileManager.default.removeItem(at: fixture.directory) }
    }

    // MARK: 1. slapgrid uploads, netcache installs

    func testEntryUploadedBySlapgridIsInstalledByNetcache() throws {
        try Interop.requireVenv()
        try Self.makeTree(at: fixture.release, netrc: false)
        let config = try fixture.config()
        let tarball = try slapgridCacheFile()

        let upload = try python("slapos_core_upload.py", config, fixture.softwareURL, tarball)
        let reply = try lastJSONLine(upload)
        let sha512 = try XCTUnwrap(reply["sha512"] as? String)
        XCTAssertEqual(reply["uploaded"] as? String, sha512, "upload_network_cached returns upload_generic's SHA-512")
        XCTAssertEqual(reply["fallback_output"] as? String, "", "upload_network_cached swallowed an exception")
        XCTAssertEqual(sha512, Interop.sha512(try Data(contentsOf: URL(fileURLWithPath: tarball))))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tarball)).prefix(2), Data([0x1F, 0x8B]))

        // Filed by slapos.core exactly as protocol §4 says, and only under the legacy key.
        let platform = try upstreamFingerprint()
        let entries = try shadir(fixture.md5)
        XCTAssertEqual(entries.map(\.info), [legacyInfo(sha512: sha512, platform: platform)])
        XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/netcache:" + fixture.md5).status, 404)
        XCTAssertEqual(fixture.server.storedBlobs().count, 1)

        let lookup = try lookupRows(config)
        XCTAssertEqual(lookup.count, 1, "\(lookup)")
        XCTAssertEqual(lookup.first?["key"] as? String, fixture.md5)
        XCTAssertEqual(lookup.first?["format"] as? String, "gzip")
        XCTAssertEqual(lookup.first?["sha512"] as? String, sha512)
        XCTAssertEqual(lookup.first?["verified"] as? Bool, true)
        XCTAssertEqual(lookup.first?["compatible"] as? Bool, true)

        // Into an empty software_root at the same path.
        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.softwareRoot), [])
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertEqual(installed.output, "installed: \(fixture.release) from \(fixture.md5) (gzip, sha512 \(sha512))\n")
        XCTAssertEqual(installed.stderr, "")

        try assertSameTree(original, fixture.release, symlinkTimes: true)
        try assertHardLinked(fixture.release + "/lib/deep/er/data.bin", fixture.release + "/lib/hardlink.bin")
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])

        // Installed once: the directory now exists, so the next install builds (exit 3).
        let again = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(again.status, 3, again.stderr)
    }

    // MARK: 2. netcache publishes, slapgrid installs

    func testReleasePublishedByNetcacheIsInstalledBySlapgrid() throws {
        try Interop.requireVenv()
        try Self.makeTree(at: fixture.release, netrc: true)
        let config = try fixture.config()
        let publish = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(publish.status, 0, publish.stderr)
        let archives = Self.archiveLines(publish.output)
        XCTAssertEqual(archives.map(\.state), ["published", "published"], publish.output)
        XCTAssertEqual(archives.map(\.key), ["netcache:" + fixture.md5, fixture.md5])
        XCTAssertEqual(archives.map(\.format), ["chunks", "gzip"])
        let gzip = try XCTUnwrap(archives.last)

        // Both keys listed, trusted, and suiting this machine as slapos.core describes it.
        let platform = try upstreamFingerprint()
        let rows = try lookupRows(config)
        XCTAssertEqual(rows.map { $0["key"] as? String }, ["netcache:" + fixture.md5, fixture.md5])
        XCTAssertEqual(rows.map { $0["format"] as? String }, ["chunks", "gzip"])
        XCTAssertEqual(rows.map { $0["sha512"] as? String }, archives.map(\.sha512))
        XCTAssertEqual(rows.map { $0["size"] as? Int }, [archives[0].size, nil], "legacy entries carry no size")
        for row in rows {
            XCTAssertEqual(row["verified"] as? Bool, true, "\(row)")
            XCTAssertEqual(row["compatible"] as? Bool, true, "\(row)")
            XCTAssertEqual(row["multiarch"] as? String, platform.multiarch)
            XCTAssertEqual([row["distribution"], row["version"], row["codename"]].map { $0 as? String }, platform.os)
        }

        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)
        let tarball = try slapgridCacheFile()
        let download = try python("slapos_core_download.py", config, fixture.softwareURL, tarball, "--extract")
        let reply = try lastJSONLine(download)
        XCTAssertEqual(reply["downloaded"] as? Bool, true, download.stderr)
        XCTAssertEqual(reply["extracted"] as? Bool, true)
        XCTAssertEqual(reply["fallback_output"] as? String, "", "download_network_cached swallowed an exception")
        // slapgrid took the legacy gzip archive, the only one it knows.
        XCTAssertEqual(Interop.sha512(try Data(contentsOf: URL(fileURLWithPath: tarball))), gzip.sha512)

        // tarfile does not restore symlink times (it never calls utime on a symlink).
        try assertSameTree(original, fixture.release, symlinkTimes: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/.netrc"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/parts/.netrc"))
        try assertHardLinked(fixture.release + "/lib/deep/er/data.bin", fixture.release + "/lib/hardlink.bin")
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    // MARK: 3. The legacy key holds gzip tars only

    func testLegacyKeyNeverServesZstd() throws {
        try Interop.requireVenv()
        try Self.makeTree(at: fixture.release, netrc: false)
        let config = try fixture.config()
        let tarball = try slapgridCacheFile()

        // --no-legacy: nothing at all under <md5>, and slapgrid finds nothing.
        let zstdOnly = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL, "--no-legacy")
        XCTAssertEqual(zstdOnly.status, 0, zstdOnly.stderr)
        XCTAssertEqual(Self.archiveLines(zstdOnly.output).map { [$0.state, $0.key, $0.format] }, [["published", "netcache:" + fixture.md5, "chunks"]])
        XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + fixture.md5).status, 404)
        XCTAssertEqual(try shadir("netcache:" + fixture.md5).count, 1)
        let miss = try lastJSONLine(try python("slapos_core_download.py", config, fixture.softwareURL, tarball))
        XCTAssertEqual(miss["downloaded"] as? Bool, false)
        XCTAssertEqual(miss["fallback_output"] as? String, "", "download_network_cached failed by an exception, not by a miss")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tarball))

        // Then with legacy on, twice with different trees: two entries under each key.
        let legacy = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(legacy.status, 0, legacy.stderr)
        XCTAssertEqual(Self.archiveLines(legacy.output).map { [$0.state, $0.key, $0.format] }, [
            ["unchanged", "netcache:" + fixture.md5, "chunks"], ["published", fixture.md5, "gzip"],
        ])
        try Data("added after the first build\n".utf8).write(to: URL(fileURLWithPath: fixture.release + "/bin/added.txt"))
        let rebuilt = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(Self.archiveLines(rebuilt.output).map { [$0.state, $0.key, $0.format] }, [
            ["published", "netcache:" + fixture.md5, "chunks"], ["published", fixture.md5, "gzip"],
        ])

        let platform = try upstreamFingerprint()
        let zstdEntries = try shadir("netcache:" + fixture.md5)
        let legacyEntries = try shadir(fixture.md5)
        XCTAssertEqual(zstdEntries.count, 2)
        XCTAssertEqual(legacyEntries.count, 2)
        let zstdSHAs = try zstdEntries.map { try Self.sha512(ofInfo: $0.info) }
        for entry in zstdEntries {
            let blob = try self.blob(try Self.sha512(ofInfo: entry.info))
            XCTAssertEqual(blob.prefix(4), Data([0x28, 0xB5, 0x2F, 0xFD]), "netcache: entries are zstd")
        }
        for (index, entry) in legacyEntries.enumerated() {
            let sha512 = try Self.sha512(ofInfo: entry.info)
            XCTAssertFalse(zstdSHAs.contains(sha512), "the legacy key references a zstd archive")
            XCTAssertEqual(entry.info, legacyInfo(sha512: sha512, platform: platform), "fields and order of slapos.core")
            let blob = try self.blob(sha512)
            XCTAssertEqual(blob.prefix(2), Data([0x1F, 0x8B]), "legacy entry \(index) is not gzip")
            let file = fixture.directory.appendingPathComponent("legacy-\(index).tar.gz")
            try blob.write(to: file)
            let members = try python("slapos_core_read_tar.py", "r:gz", file.path)
            let names = members.output.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["name"] as? String
            }
            XCTAssertEqual(names.contains(fixture.md5 + "/bin/added.txt"), index == 1, "entry \(index): \(names)")
            if index == 1 {
                // The second legacy archive is the current tree, member by member.
                XCTAssertEqual(try Self.normalisedMembers(members.output), try Self.expectedMembers(of: fixture.release, top: fixture.md5))
            }
        }

        // slapgrid takes the first legacy entry: a gzip tar that tarfile reads.
        let hit = try lastJSONLine(try python("slapos_core_download.py", config, fixture.softwareURL, tarball))
        XCTAssertEqual(hit["downloaded"] as? Bool, true)
        XCTAssertEqual(hit["fallback_output"] as? String, "")
        let downloaded = try Data(contentsOf: URL(fileURLWithPath: tarball))
        XCTAssertEqual(Interop.sha512(downloaded), try Self.sha512(ofInfo: legacyEntries[0].info))
        XCTAssertEqual(try python("slapos_core_read_tar.py", "r:gz", tarball).status, 0)
    }

    // MARK: 4. Fingerprint

    func testFingerprintIsWhatSlaposCoreRecords() throws {
        try Interop.requireVenv()
        let upstream = try python("slapos_core_fingerprint.py", fixture.softwareRoot)
        let ours = try netcache("fingerprint", "--json", "--software-root", fixture.softwareRoot)
        XCTAssertEqual(ours.status, 0, ours.stderr)
        // Same fields, same values, same serialisation (Python's json.dumps defaults).
        XCTAssertEqual(ours.output, upstream.output)

        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: ours.stdout) as? [String: Any])
        let platform = try upstreamFingerprint()
        XCTAssertEqual(fields["os"] as? [String], platform.os, "os is list(distribution_tuple())")
        let gcc = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/env"), ["gcc", "-dumpmachine"])
        XCTAssertEqual(gcc.status, 0, gcc.stderr)
        XCTAssertEqual(fields["multiarch"] as? String, gcc.output.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(fields["multiarch"] as? String, platform.multiarch)
        let libc = try XCTUnwrap(fields["libc"] as? [String])
        XCTAssertEqual(libc.count, 2)
        XCTAssertEqual(libc.last, platform.libc.last, "libc[1] is platform.libc_ver()[1]")
        XCTAssertEqual(fields["software_root"] as? String, fixture.softwareRoot)

        // software_root from [slapos] of slapos.cfg; /opt/slapgrid without one.
        let configured = try netcache("fingerprint", "--json", "-c", try fixture.config())
        XCTAssertEqual(configured.status, 0, configured.stderr)
        XCTAssertEqual(configured.output, upstream.output)
        let bare = try netcache("fingerprint", "--json")
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertEqual(bare.output, try python("slapos_core_fingerprint.py", "/opt/slapgrid").output)
    }

    // MARK: 5. Determinism

    func testPublishingTwiceChangesNothing() throws {
        try Interop.requireVenv()
        try Self.makeTree(at: fixture.release, netrc: true)
        let config = try fixture.config()
        let first = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(first.status, 0, first.stderr)
        let stored = fixture.server.storedBlobs()
        let second = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(second.status, 0, second.stderr)

        let before = Self.archiveLines(first.output)
        let after = Self.archiveLines(second.output)
        XCTAssertEqual(before.map(\.state), ["published", "published"], first.output)
        XCTAssertEqual(after.map(\.state), ["unchanged", "unchanged"], second.output)
        XCTAssertEqual(after.map(\.key), ["netcache:" + fixture.md5, fixture.md5])
        XCTAssertEqual(after.map(\.key), before.map(\.key))
        XCTAssertEqual(after.map(\.format), before.map(\.format))
        XCTAssertEqual(after.map(\.size), before.map(\.size))
        XCTAssertEqual(after.map(\.sha512), before.map(\.sha512))
        XCTAssertEqual(second.output, first.output.replacingOccurrences(of: "published: ", with: "unchanged: "))

        for archive in after {
            let entries = try shadir(archive.key)
            XCTAssertEqual(try entries.map { try Self.sha512(ofInfo: $0.info) }, [archive.sha512], "one entry under \(archive.key)")
        }
        XCTAssertEqual(fixture.server.storedBlobs(), stored)
        // And slapgrid still reads what is there.
        let tarball = try slapgridCacheFile()
        let download = try lastJSONLine(try python("slapos_core_download.py", config, fixture.softwareURL, tarball))
        XCTAssertEqual(download["downloaded"] as? Bool, true)
        XCTAssertEqual(Interop.sha512(try Data(contentsOf: URL(fileURLWithPath: tarball))), after.last?.sha512)
    }

    // MARK: 6. Non-ASCII names, both ways

    /// Release trees hold UTF-8 file names (test data of eggs, locales): Python's tarfile
    /// writes them in pax headers and reads them back; netcache must do both too.
    func testNonASCIINamesCrossBothWays() throws {
        try Interop.requireVenv()
        try Self.makeTree(at: fixture.release, netrc: false, nonASCII: true)
        let config = try fixture.config()
        let original = fixture.directory.appendingPathComponent("original").path

        // slapgrid → netcache.
        let upload = try lastJSONLine(try python("slapos_core_upload.py", config, fixture.softwareURL, try slapgridCacheFile()))
        let sha512 = try XCTUnwrap(upload["sha512"] as? String)
        XCTAssertEqual(upload["uploaded"] as? String, sha512)
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertEqual(installed.output, "installed: \(fixture.release) from \(fixture.md5) (gzip, sha512 \(sha512))\n")
        if installed.status == 0 { try assertSameTree(original, fixture.release, symlinkTimes: true) }
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])

        // netcache → slapgrid, from a fresh cache and an empty software_root.
        try? FileManager.default.removeItem(atPath: fixture.release)
        let other = try BinaryCacheFixture()
        defer {
            other.server.stop()
            try? FileManager.default.removeItem(at: other.directory)
        }
        let source = other.release
        try FileManager.default.createDirectory(atPath: other.softwareRoot, withIntermediateDirectories: true)
        XCTAssertEqual(rename(original, source), 0, "moving the tree to the second software_root")
        let otherConfig = try other.config()
        let publish = try netcache("publish", "-c", otherConfig, "--software-url", other.softwareURL)
        XCTAssertEqual(publish.status, 0, publish.stderr)
        XCTAssertEqual(Self.archiveLines(publish.output).map(\.state), ["published", "published"], publish.output)
        let moved = other.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: source, toPath: moved)
        let download = try NetcacheTests.run(
            Interop.python,
            [Binaries.packageRoot.appendingPathComponent("Tests/interop/slapos_core_download.py").path, otherConfig, other.softwareURL,
             other.directory.appendingPathComponent("archive").path, "--extract"],
            environment: ["PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"])
        XCTAssertEqual(download.status, 0, download.stderr)
        let reply = try lastJSONLine(download)
        XCTAssertEqual(reply["downloaded"] as? Bool, true, download.stderr)
        XCTAssertEqual(reply["extracted"] as? Bool, true)
        if reply["extracted"] as? Bool == true { try assertSameTree(moved, other.release, symlinkTimes: false) }
    }

    // MARK: - Trees

    /// `ReleaseTree.make` plus what Python's tarfile and libarchive must agree on: names
    /// longer than ustar's 100 bytes (pax headers), private, group-writable and read-only
    /// modes, a multi-MiB file, a symlink to a directory, sub-second mtimes (.75 s: a ustar
    /// header rounds, the pax header keeps them) and, with `nonASCII`, UTF-8 names.
    static func makeTree(at path: String, netrc: Bool, nonASCII: Bool = false) throws {
        try ReleaseTree.make(at: path)
        let fm = FileManager.default
        if !netrc {
            try fm.removeItem(atPath: path + "/.netrc")
            try fm.removeItem(atPath: path + "/parts/.netrc")
        }
        let longDirectory = path + "/parts/" + String(repeating: "a-long-directory-name-", count: 4)
        try fm.createDirectory(atPath: longDirectory, withIntermediateDirectories: true)
        try Data("long\n".utf8).write(to: URL(fileURLWithPath: longDirectory + "/" + String(repeating: "n", count: 120) + ".txt"))
        if nonASCII {
            try fm.createDirectory(atPath: path + "/share/café-ünï", withIntermediateDirectories: true)
            try Data("unicode\n".utf8).write(to: URL(fileURLWithPath: path + "/share/café-ünï/файл.txt"))
            try fm.createSymbolicLink(atPath: path + "/share/ссылка", withDestinationPath: "café-ünï/файл.txt")
        }
        try fm.createDirectory(atPath: path + "/var/private", withIntermediateDirectories: true)
        try Data("private\n".utf8).write(to: URL(fileURLWithPath: path + "/var/private/secret.txt"))
        chmod(path + "/var/private/secret.txt", 0o600)
        chmod(path + "/var/private", 0o700)
        try fm.createDirectory(atPath: path + "/var/group", withIntermediateDirectories: true)
        chmod(path + "/var/group", 0o775)
        try fm.createDirectory(atPath: path + "/etc", withIntermediateDirectories: true)
        try Data("read only\n".utf8).write(to: URL(fileURLWithPath: path + "/etc/readonly.cfg"))
        chmod(path + "/etc/readonly.cfg", 0o444)
        try Interop.bytes(3 << 20, seed: 42).write(to: URL(fileURLWithPath: path + "/lib/big.bin"))
        try fm.createSymbolicLink(atPath: path + "/lib/link-to-deep", withDestinationPath: "deep")
        // Distinct seconds per entry, so that a time taken from the wrong entry shows.
        let nodes = try ReleaseTree.nodes(at: path, includeNetrc: true)
        for (index, node) in nodes.enumerated().reversed() {
            var times = [timespec(tv_sec: 1_600_000_000 + index * 61, tv_nsec: 750_000_000), timespec(tv_sec: 1_600_000_000 + index * 61, tv_nsec: 750_000_000)]
            XCTAssertEqual(utimensat(AT_FDCWD, path + "/" + node.path, &times, AT_SYMLINK_NOFOLLOW), 0, node.path)
        }
        var times = [timespec(tv_sec: 1_599_999_000, tv_nsec: 750_000_000), timespec(tv_sec: 1_599_999_000, tv_nsec: 750_000_000)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), 0)
    }

    /// Entry by entry (type, mode, content, symlink target, mtime at 1 s), the top
    /// directory included; `.netrc` files are left out of both sides.
    private func assertSameTree(_ expected: String, _ actual: String, symlinkTimes: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        func snapshot(_ path: String) throws -> [ReleaseTree.Node] {
            var status = stat()
            guard lstat(path, &status) == 0 else { throw TestFailure("lstat \(path)") }
            let top = ReleaseTree.Node(path: ".", type: "dir", mode: UInt16(status.st_mode & 0o7777), mtime: Int(status.st_mtim.tv_sec), content: nil, linkTarget: nil)
            return try [top] + ReleaseTree.nodes(at: path).map { node in
                guard !symlinkTimes, node.type == "symlink" else { return node }
                return ReleaseTree.Node(path: node.path, type: node.type, mode: node.mode, mtime: 0, content: nil, linkTarget: node.linkTarget)
            }
        }
        let left = try snapshot(expected)
        let right = try snapshot(actual)
        XCTAssertEqual(left.map(\.path), right.map(\.path), file: file, line: line)
        XCTAssertGreaterThan(left.count, 20, "the source tree is not what the test built", file: file, line: line)
        for (a, b) in zip(left, right) {
            XCTAssertEqual(a, b, file: file, line: line)
        }
    }

    private func assertHardLinked(_ first: String, _ second: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var a = stat(), b = stat()
        guard lstat(first, &a) == 0, lstat(second, &b) == 0 else { throw TestFailure("lstat \(first) / \(second)") }
        XCTAssertEqual(a.st_ino, b.st_ino, "hard link not kept: \(first), \(second)", file: file, line: line)
    }

    /// What slapos_core_read_tar.py prints, as comparable lines: hard links resolved to
    /// the file they share (type file, that file's digest); names relative to the archive.
    static func normalisedMembers(_ output: String) throws -> [String] {
        let members = try output.split(separator: "\n").map { line -> [String: Any] in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        var digests: [String: String] = [:]
        for member in members where member["type"] as? String == "file" {
            digests[member["name"] as! String] = member["sha512"] as? String
        }
        return members.map { member in
            var type = member["type"] as! String
            var digest = member["sha512"] as? String ?? "-"
            var link = member["linkname"] as? String ?? ""
            if type == "hardlink" {
                type = "file"
                digest = digests[link] ?? "unresolved hard link to \(link)"
                link = ""
            }
            return "\(member["name"] as! String) \(type) \(String(member["mode"] as! Int, radix: 8)) \(member["mtime"] as! Int) \(digest) \(link)"
        }.sorted()
    }

    /// The same lines for a tree on disk, `.netrc` files left out.
    static func expectedMembers(of path: String, top: String) throws -> [String] {
        var status = stat()
        lstat(path, &status)
        var lines = ["\(top) dir \(String(status.st_mode & 0o7777, radix: 8)) \(status.st_mtim.tv_sec) - "]
        for node in try ReleaseTree.nodes(at: path) {
            let digest = node.content.map(Interop.sha512) ?? "-"
            lines.append("\(top)/\(node.path) \(node.type) \(String(node.mode, radix: 8)) \(node.mtime) \(digest) \(node.linkTarget ?? "")")
        }
        return lines.sorted()
    }

    // MARK: - Cache and processes

    private struct UpstreamPlatform {
        let os: [String]
        let multiarch: String
        let libc: [String]
    }

    private func upstreamFingerprint() throws -> UpstreamPlatform {
        let fields = try lastJSONLine(try python("slapos_core_fingerprint.py", fixture.softwareRoot))
        return UpstreamPlatform(
            os: try XCTUnwrap(fields["os"] as? [String]), multiarch: try XCTUnwrap(fields["multiarch"] as? String),
            libc: try XCTUnwrap(fields["libc"] as? [String]))
    }

    /// The `info` slapos.core's upload_network_cached files: json.dumps defaults, fields in
    /// the order of protocol §4.
    private func legacyInfo(sha512: String, platform: UpstreamPlatform) -> String {
        let os = "[" + platform.os.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        return #"{"sha512": "\#(sha512)", "software_url": "\#(fixture.softwareURL)", "software_root": "\#(fixture.softwareRoot)", "multiarch": "\#(platform.multiarch)", "os": \#(os)}"#
    }

    private func shadir(_ key: String) throws -> [ShadirEntry] {
        let response = try TestHTTP.request("GET", fixture.server.shadirURL + "/" + key)
        guard response.status == 200 else { throw TestFailure("GET /shadir/\(key): \(response.status)") }
        return try ShadirListing.parse(response.body)
    }

    private func blob(_ sha512: String) throws -> Data {
        let response = try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + sha512)
        guard response.status == 200 else { throw TestFailure("GET /shacache/\(sha512): \(response.status)") }
        XCTAssertEqual(Interop.sha512(Data(response.body)), sha512)
        return Data(response.body)
    }

    static func sha512(ofInfo info: String) throws -> String {
        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
        return try XCTUnwrap(fields["sha512"] as? String)
    }

    private func lookupRows(_ config: String) throws -> [[String: Any]] {
        let lookup = try netcache("lookup", "binary-sr", "-c", config, fixture.softwareURL, "--json")
        guard lookup.status == 0 else { throw TestFailure("netcache lookup binary-sr: \(lookup.stderr)") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: lookup.stdout) as? [[String: Any]], lookup.output)
    }

    /// Where slapgrid's Software.install keeps the archive: a fresh directory outside
    /// software_root, the file named after md5(url).
    private func slapgridCacheFile() throws -> String {
        let directory = fixture.directory.appendingPathComponent("slapgrid-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(fixture.md5).path
    }

    struct ArchiveLine {
        let state: String
        let key: String
        let format: String
        let size: Int
        let sha512: String
    }

    /// `publish`'s "published|unchanged: KEY FORMAT SIZE bytes sha512 SHA" lines.
    static func archiveLines(_ output: String) -> [ArchiveLine] {
        output.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 7, words[0] == "published:" || words[0] == "unchanged:", words[4] == "bytes", words[5] == "sha512",
                let size = Int(words[3])
            else { return nil }
            return ArchiveLine(state: String(words[0].dropLast()), key: words[1], format: words[2], size: size, sha512: words[6])
        }
    }

    @discardableResult
    private func python(_ script: String, _ arguments: String...) throws -> CommandResult {
        let path = Binaries.packageRoot.appendingPathComponent("Tests/interop/" + script).path
        let result = try NetcacheTests.run(
            Interop.python, [path] + arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"],
            directory: fixture.directory)
        guard result.status == 0 else {
            throw TestFailure("python \(script) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)\n\(result.stderr)")
        }
        return result
    }

    private func lastJSONLine(_ result: CommandResult) throws -> [String: Any] {
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], result.output + result.stderr)
    }
}
