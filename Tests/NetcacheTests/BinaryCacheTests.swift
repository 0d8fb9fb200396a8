import Foundation
import NetcacheProtocol
import Synchronization
import XCTest

@testable import BinaryCache
@testable import NetcacheClient

final class PublishInstallTests: XCTestCase {
    func testRoundTripReproducesTheTreeWithoutSecrets() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        let published = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        XCTAssertTrue(published.output.contains("left out: .netrc (credentials (.netrc))"), published.output)
        XCTAssertTrue(published.output.contains("left out: parts/.netrc (credentials (.netrc))"), published.output)
        XCTAssertTrue(published.output.contains("published: netcache:\(fixture.md5) chunks"), published.output)
        XCTAssertTrue(published.output.contains("published: \(fixture.md5) gzip"), published.output)

        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertTrue(installed.output.hasPrefix("installed: \(fixture.release) from netcache:\(fixture.md5) (chunks"), installed.output)

        try ReleaseTree.assertSameTree(original, fixture.release)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/.netrc"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/parts/.netrc"))
        var first = stat(), second = stat()
        lstat(fixture.release + "/lib/deep/er/data.bin", &first)
        lstat(fixture.release + "/lib/hardlink.bin", &second)
        XCTAssertEqual(first.st_ino, second.st_ino, "hard link not kept")
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    /// `binary-cache-install-sync = filesystem` syncs once instead of file by file: the
    /// same tree; a value that is neither is an error before anything is done.
    func testInstallingWithOneFileSystemSyncGivesTheSameTree() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        XCTAssertEqual(try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL).status, 0)
        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)

        let wrong = try netcache("install", "-c", try fixture.config(name: "wrong.cfg", extra: "binary-cache-install-sync = sometimes"), "--software-url", fixture.softwareURL)
        XCTAssertEqual(wrong.status, 1, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("binary-cache-install-sync: expected files or filesystem, got 'sometimes'"), wrong.stderr)
        XCTAssertEqual(try fixture.strayEntries(), [])

        let config = try fixture.config(name: "syncfs.cfg", extra: "binary-cache-install-sync = filesystem")
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        try ReleaseTree.assertSameTree(original, fixture.release)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    /// A cache filled by older nodes holds only the legacy gzip entry (its key, its blob):
    /// `install` takes it and gives the same tree.
    func testTheLegacyArchiveInstallsTheSameTree() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        let original = fixture.directory.appendingPathComponent("original").path
        try FileManager.default.moveItem(atPath: fixture.release, toPath: original)

        let older = try ServerProcess()
        defer { older.stop() }
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + fixture.md5).body)
        XCTAssertEqual(listing.count, 1)
        let entry = try XCTUnwrap(listing.first)
        XCTAssertEqual(try TestHTTP.request("PUT", older.shadirURL + "/" + fixture.md5, body: Array(entry.body.utf8)).status, 201)
        let sha512 = try XCTUnwrap(entry.fields?["sha512"]?.stringValue)
        let archive = try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + sha512)
        XCTAssertEqual(try TestHTTP.request("POST", older.shacacheURL, body: archive.body).text, sha512)
        XCTAssertEqual(try TestHTTP.request("GET", older.shadirURL + "/netcache:" + fixture.md5).status, 404)

        let legacyOnly = try fixture.rewritten(config, replacing: fixture.server.url, with: older.url)
        let installed = try netcache("install", "-c", legacyOnly, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertTrue(installed.output.hasPrefix("installed: \(fixture.release) from \(fixture.md5) (gzip"), installed.output)
        try ReleaseTree.assertSameTree(original, fixture.release)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
    }

    func testPublishingTwiceGivesTheSameBytesAndUploadsNothing() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        let first = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(first.status, 0, first.stderr)
        let recorded = try fixture.recorded(config)
        let second = try netcache("publish", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(first.output.replacingOccurrences(of: "published:", with: "unchanged:"), second.output)
        XCTAssertTrue(recorded.proxy.requests.contains { $0.hasPrefix("GET /shadir/") }, "\(recorded.proxy.requests)")
        XCTAssertEqual(recorded.proxy.changes, [], "something was uploaded again")
    }

    func testSpecialFilesAndPatternsAreLeftOutAndSaid() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        XCTAssertEqual(mkfifo(fixture.release + "/parts/fifo", 0o644), 0)
        try Data("x".utf8).write(to: URL(fileURLWithPath: fixture.release + "/lib/cache.pyc"))
        let config = try fixture.config(extra: "binary-cache-exclude =\n  *.pyc")
        let published = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL, "--exclude", "parts/empty", "--no-legacy")
        XCTAssertEqual(published.status, 0, published.stderr)
        XCTAssertTrue(published.output.contains("left out: parts/fifo (FIFO)"), published.output)
        XCTAssertTrue(published.output.contains("left out: lib/cache.pyc (matches *.pyc)"), published.output)
        XCTAssertTrue(published.output.contains("left out: parts/empty (matches parts/empty)"), published.output)
        XCTAssertFalse(published.output.contains("gzip"), published.output)
        XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + fixture.md5).status, 404)
        try FileManager.default.removeItem(atPath: fixture.release)
        XCTAssertEqual(try netcache("install", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/lib/cache.pyc"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.release + "/parts/empty"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.release + "/bin/run"))
    }

    /// Installs refuse setuid and setgid bits; a group-shared software_root gives every
    /// directory setgid: publish drops the bits, so that such a release still installs.
    func testSetuidAndSetgidBitsAreDroppedAndSaid() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        XCTAssertEqual(chmod(fixture.release + "/lib", 0o2775), 0)
        XCTAssertEqual(chmod(fixture.release + "/bin/run", 0o4755), 0)
        let config = try fixture.config()
        let published = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(published.status, 0, published.stderr)
        XCTAssertTrue(published.output.contains("setuid/setgid bit dropped: bin/run\n"), published.output)
        XCTAssertFalse(published.output.contains("dropped: lib\n"), published.output)
        try FileManager.default.removeItem(atPath: fixture.release)
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        var status = stat()
        XCTAssertEqual(lstat(fixture.release + "/lib", &status), 0)
        XCTAssertEqual(status.st_mode & 0o7777, 0o775)
        XCTAssertEqual(lstat(fixture.release + "/bin/run", &status), 0)
        XCTAssertEqual(status.st_mode & 0o7777, 0o755)
    }

    func testSharedReleasesBlacklistedURLsAndMissingTrees() throws {
        let fixture = try BinaryCacheFixture()
        let (config, recorder) = try fixture.recorded(try fixture.config(extra: "upload-to-binary-cache-url-blacklist =\n  https://lab.example/software/dev"))
        let missing = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no release directory"), missing.stderr)

        try ReleaseTree.make(at: fixture.release)
        XCTAssertTrue(FileManager.default.createFile(atPath: fixture.release + "/.shared", contents: nil))
        let shared = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(shared.status, 0)
        XCTAssertTrue(shared.output.hasPrefix("skipped: "), shared.output)
        XCTAssertTrue(shared.output.contains(".shared"), shared.output)

        let devURL = "https://lab.example/software/dev/software.cfg"
        let devRelease = fixture.softwareRoot + "/" + StreamingDigest.md5Hex(of: devURL)
        try ReleaseTree.make(at: devRelease)
        let blacklisted = try netcache("publish", "-c", config, "--software-url", devURL)
        XCTAssertEqual(blacklisted.status, 0)
        XCTAssertTrue(blacklisted.output.contains("skipped: \(devURL) is on upload-to-binary-cache-url-blacklist"), blacklisted.output)
        XCTAssertEqual(recorder.changes, [], "something was uploaded")
    }
}

final class OwnershipTests: XCTestCase {
    func testRootGivesTheInstalledTreeToTheSoftwareRootOwner() throws {
        guard getuid() == 0 else { throw TestFailure("this test checks what install does as root; run the suite as root, as CI does") }
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        XCTAssertEqual(try netcache("publish", "-c", config, "--software-url", fixture.softwareURL).status, 0)
        try FileManager.default.removeItem(atPath: fixture.release)
        XCTAssertEqual(chown(fixture.softwareRoot, 65534, 65534), 0)
        let installed = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        for node in try ReleaseTree.nodes(at: fixture.release) + [ReleaseTree.Node(path: "", type: "dir", mode: 0, mtime: 0, content: nil, linkTarget: nil)] {
            var status = stat()
            XCTAssertEqual(lstat(fixture.release + "/" + node.path, &status), 0)
            XCTAssertEqual(status.st_uid, 65534, node.path)
            XCTAssertEqual(status.st_gid, 65534, node.path)
        }
    }
}

final class PublishFailureTests: XCTestCase {
    func testAReleaseDirectoryThatIsASymlinkIsNotPublished() throws {
        let fixture = try BinaryCacheFixture()
        let elsewhere = fixture.directory.appendingPathComponent("elsewhere").path
        try ReleaseTree.make(at: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: fixture.release, withDestinationPath: elsewhere)
        let recorded = try fixture.recorded(try fixture.config())
        let result = try netcache("publish", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(fixture.release) is not a directory (a symlink?)"), result.stderr)
        XCTAssertEqual(recorded.proxy.changes, [], "something was uploaded")
    }

    /// The tree's owner swaps files for symlinks to a root-only file, over and over, while
    /// root packs the tree: the root-only file's bytes must never be packed (a pack may
    /// fail instead, saying a file changed). Many files widen the race: an lstat-then-open
    /// packer lost it about twice in a hundred packs here.
    func testSwappingFilesForSymlinksNeverPacksWhatTheLinksLeadTo() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let secret = fixture.directory.appendingPathComponent("shadow").path
        try Data("SECRET-SECRET-SECRET".utf8).write(to: URL(fileURLWithPath: secret))
        let flips = (0..<200).map { fixture.release + "/lib/flip\($0)" }
        for flip in flips { try Data("ordinary-file-bytes!".utf8).write(to: URL(fileURLWithPath: flip)) }
        // Made outside the tree, so that the packer only ever meets the flips.
        let next = fixture.directory.appendingPathComponent("next").path
        let stop = Atomic(false)
        let flipper = Thread {
            var asLink = true
            while !stop.load(ordering: .relaxed) {
                for flip in flips {
                    if asLink {
                        symlink(secret, next)
                    } else {
                        let descriptor = open(next, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
                        _ = "ordinary-file-bytes!".withCString { write(descriptor, $0, 20) }
                        close(descriptor)
                    }
                    rename(next, flip)
                }
                asLink.toggle()
            }
        }
        flipper.start()
        defer { stop.store(true, ordering: .relaxed) }
        var packed = 0
        for _ in 0..<300 {
            var tar = Data()
            let packer = TreePacker(source: fixture.release, top: fixture.md5, ownerName: "root", groupName: "root", excludePatterns: [])
            do {
                _ = try packer.pack { tar.append(contentsOf: $0) }
                packed += 1
            } catch {
                XCTAssertTrue("\(error)".contains("changed while being archived"), "\(error)")
            }
            XCTAssertNil(tar.range(of: Data("SECRET".utf8)), "a symlink was followed into the archive")
        }
        XCTAssertGreaterThan(packed, 0)
    }

    /// The chunks and the index are uploaded, then shadir cannot be reached for the PUT (tried
    /// again, then given up): publish fails with one line and files nothing; the next
    /// publish, shadir back, files both entries and uploads only the blob it had not yet
    /// (the legacy archive, made after the chunked entry is filed).
    func testAPublishWhoseEntryCannotBeFiledFailsAndTheNextOneFilesIt() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let directory = try GatedProxy.recording(fixture.server.url)
        directory.cuts = true
        let config = try fixture.rewritten(
            try fixture.config(), replacing: "upload-binary-dir-url = \(fixture.server.shadirURL)", with: "upload-binary-dir-url = \(directory.url)/shadir")

        let failed = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertEqual(failed.stderr.split(separator: "\n").count, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.hasPrefix("netcache: error: ") && failed.stderr.contains("/shadir/"), failed.stderr)
        XCTAssertEqual(Set(directory.requests), ["PUT /shadir/netcache:\(fixture.md5) HTTP/1.1"])
        XCTAssertGreaterThanOrEqual(directory.requests.count, 2, "the PUT was not tried again")
        let stored = Set(fixture.server.storedBlobs())
        XCTAssertFalse(stored.isEmpty, "the blobs were not uploaded before the PUT")
        for key in ["netcache:" + fixture.md5, fixture.md5] {
            XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + key).status, 404, key)
        }
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])

        directory.cuts = false
        let recorded = try fixture.recorded(config)
        let again = try netcache("publish", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.output.contains("published: netcache:\(fixture.md5) chunks"), again.output)
        let added = Set(fixture.server.storedBlobs()).subtracting(stored)
        XCTAssertEqual(added.count, 1)
        XCTAssertEqual(recorded.proxy.requests.filter { $0.hasPrefix("POST ") }.count, added.count, "a blob was uploaded again")
        XCTAssertTrue(Set(fixture.server.storedBlobs()).isSuperset(of: stored))
        for key in ["netcache:" + fixture.md5, fixture.md5] {
            XCTAssertEqual(try TestHTTP.request("GET", fixture.server.shadirURL + "/" + key).status, 200, key)
        }
    }

    /// A name that is not UTF-8 cannot be archived: publish stops with a one-line error
    /// naming it (and the gzip workers, still busy, are waited for), uploading nothing.
    func testAPackingFailureIsAnErrorNotACrash() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let badName = fixture.release + "/lib/bad-\u{1}"
        var bytes = Array(badName.utf8)
        bytes[bytes.count - 1] = 0xFF
        let descriptor = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            buffer.withMemoryRebound(to: CChar.self) { open(Array($0) + [0], O_CREAT | O_WRONLY, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        close(descriptor)
        let recorded = try fixture.recorded(try fixture.config())
        let result = try netcache("publish", "-c", recorded.config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("netcache: error: ") && result.stderr.contains("/lib/bad-"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [])
        XCTAssertEqual(recorded.proxy.changes, [], "something was uploaded")
    }
}
