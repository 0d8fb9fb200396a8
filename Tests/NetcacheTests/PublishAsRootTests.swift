import Foundation
import NetcacheProtocol
import XCTest

/// Publish as root while software_root's owner (here `nobody`) keeps turning files of the
/// release into symlinks to a root-only secret and back, and puts such symlinks in place
/// of every new name that appears in software_root: whatever root reads, spools or
/// uploads, it must never be the secret, and no root file may be written.
final class PublishAsRootTests: XCTestCase {
    func testSymlinksSwappedInAndOutOfTheReleaseWhileItIsPublishedReachNothing() throws {
        guard getuid() == 0 else { throw TestFailure("this test publishes as root against a process running as nobody; run the suite as root, as CI does") }
        let fixture = try BinaryCacheFixture()
        defer { fixture.server.stop() }
        try ReleaseTree.make(at: fixture.release)
        try ReleaseTree.addNoise(at: fixture.release + "/lib/large.bin", megabytes: 24)
        for number in 0..<4 { try Data("flip \(number)\n".utf8).write(to: URL(fileURLWithPath: fixture.release + "/lib/flip-\(number)")) }
        let secret = fixture.directory.appendingPathComponent("secret.key").path
        let secretBytes = Data("-----BEGIN PRIVATE KEY----- root only -----END PRIVATE KEY-----\n".utf8)
        try secretBytes.write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        let keyBefore = try Data(contentsOf: URL(fileURLWithPath: fixture.keyFile))
        chmod(fixture.directory.path, 0o755)
        XCTAssertEqual(try NetcacheTests.run(URL(fileURLWithPath: "/bin/chown"), ["-R", "65534:65534", fixture.softwareRoot]).status, 0)

        // What the swapper replaced, kept where root publishes nothing.
        let swapped = fixture.directory.appendingPathComponent("swapped").path
        XCTAssertTrue(FileManager.default.createFile(atPath: swapped, contents: nil))
        XCTAssertEqual(chown(swapped, 65534, 65534), 0)
        let swapper = Process()
        swapper.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        swapper.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", Self.swapLoop,
                             "swapper", fixture.softwareRoot, secret, fixture.md5, swapped]
        try swapper.run()
        defer {
            try? Data().write(to: URL(fileURLWithPath: fixture.softwareRoot + "/stop"))
            swapper.waitUntilExit()
        }
        let started = Date()
        while !FileManager.default.fileExists(atPath: fixture.softwareRoot + "/started") && Date().timeIntervalSince(started) < 10 {
            usleep(10_000)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.softwareRoot + "/started"), "the swapper did not start")
        // Appended to the swapper's log (O_APPEND: its lines and these never overwrite).
        let log = open(swapped, O_WRONLY | O_APPEND)
        XCTAssertGreaterThanOrEqual(log, 0)
        defer { close(log) }
        let mark = { (line: String) in XCTAssertEqual(write(log, line + "\n", line.utf8.count + 1), line.utf8.count + 1) }
        mark("publishing")
        let result = try netcache("publish", "-c", try fixture.config(), "--software-url", fixture.softwareURL)
        mark("published")
        // A file that became a symlink while it was read is refused, not followed: the
        // publish either files the tree as it read it or stops saying so.
        if result.status == 0 {
            XCTAssertEqual(result.output.split(separator: "\n").filter { $0.hasPrefix("published: ") }.count, 2, result.output)
        } else {
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("changed while being archived"), result.stderr)
        }
        let lines = try String(contentsOfFile: swapped, encoding: .utf8).split(separator: "\n")
        let during = lines.drop { $0 != "publishing" }.prefix { $0 != "published" }.filter { $0.hasPrefix("flip-") }
        XCTAssertFalse(during.isEmpty, "nothing was swapped while the release was published")

        // No blob holds the secret, whether raw, in a zstd frame or in the gzip archive.
        let secretSHA512 = StreamingDigest.sha512Hex(of: Array(secretBytes))
        XCTAssertFalse(fixture.server.storedBlobs().contains { $0.hasSuffix(secretSHA512) }, "root uploaded the secret")
        let search = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", """
            for blob in "$1"/shacache/*/*; do zstd -dcq "$blob" 2>/dev/null || gzip -dc "$blob" 2>/dev/null || cat "$blob"; done | grep -c "root only"
            """, "search", fixture.server.dataDirectory.path])
        XCTAssertEqual(search.output, "0\n", "a published blob holds the secret")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: secret)), secretBytes)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fixture.keyFile)), keyBefore)
        // Stopped first: a name the swapper cannot replace (the directory of kept chunk
        // indexes) leaves its scratch link there between two tries.
        try Data().write(to: URL(fileURLWithPath: fixture.softwareRoot + "/stop"))
        swapper.waitUntilExit()
        XCTAssertEqual(Set(try fixture.strayEntries(besides: [fixture.md5])), ["started", "stop"])
    }

    /// Runs as nobody until told to stop (or for a minute at most): turns each
    /// `lib/flip-N` of the release into a symlink to the secret and back, and replaces
    /// every name in software_root but the release, its own markers and its scratch link
    /// with such a symlink; writes each name it replaced to its log.
    private static let swapLoop = #"""
        root=$1 secret=$2 release=$3 log=$4
        end=$(( $(date +%s) + 60 ))
        : > "$root/started"
        while [ ! -e "$root/stop" ] && [ "$(date +%s)" -lt "$end" ]; do
          for path in "$root/$release"/lib/flip-*; do
            if [ -L "$path" ]; then
              printf 'flipped back\n' > "$root/.swap" && mv -fT "$root/.swap" "$path" && echo "${path##*/}" >> "$log"
            else
              ln -sfn "$secret" "$root/.swap" && mv -fT "$root/.swap" "$path" && echo "${path##*/}" >> "$log"
            fi
          done
          for path in "$root"/* "$root"/.[!.]*; do
            case ${path##*/} in
              "$release"|started|stop|.swap|'*'|'.[!.]*') continue ;;
            esac
            ln -sfn "$secret" "$root/.swap" && mv -fT "$root/.swap" "$path" 2>/dev/null && echo "${path##*/}" >> "$log"
          done
        done
        rm -f "$root/.swap"
        """#
}
