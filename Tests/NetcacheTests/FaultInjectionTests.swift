import Foundation
import NetcacheProtocol
import XCTest

/// Faults injected at random into the client's system calls (libfiu): never a crash, a
/// hang or a partial tree. Each faulty install exits 0 with the published tree, or 1 or 3
/// with one line and nothing at the release's name; each faulty publish files only
/// entries whose archive is whole; and the next run without faults works and leaves
/// nothing behind. Only the client runs under faults, never the server.
final class FaultInjectionTests: XCTestCase {
    /// Failure points and how often each call fails: the whole of posix I/O, and its
    /// reads and writes, opens and closes, directory listings on their own.
    private static let faults: [(pattern: String, probability: Double)] = [
        ("posix/io/*", 0.02), ("posix/io/rw/*", 0.05), ("posix/io/oc/*", 0.1), ("posix/io/dir/*", 0.1),
    ]
    private static let runs = 48
    /// Far above a run's second or so: reaching it means the run hung.
    private static let timeout: TimeInterval = 30
    /// How a failure's one line on stderr starts.
    private static let failureLines = ["netcache: error: ", "netcache: not installed from the binary cache: "]

    private var fixture: BinaryCacheFixture!

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
    }

    override func tearDown() {
        fixture.server.stop()
    }

    func testInstallsUnderFaultsEndWholeOrLeaveNothing() throws {
        try fixture.publishReleaseElsewhere()
        let reference = fixture.directory.appendingPathComponent("reference").path
        try ReleaseTree.make(at: reference)
        let expected = try ReleaseTree.nodes(at: reference)
        let config = try fixture.config()
        var outcomes: [Int32: Int] = [:]
        for index in 0..<Self.runs {
            let (pattern, probability) = Self.faults[index % Self.faults.count]
            let run = try FaultInjection.netcache(
                ["install", "-c", config, "--software-url", fixture.softwareURL], faults: pattern, probability: probability, timeout: Self.timeout)
            let context = "run \(index) under \(pattern) at \(probability): \(run.summary)"
            guard assertEndedCleanly(run, allowed: [0, 1, 3], context) else { return }
            outcomes[run.result.status, default: 0] += 1
            let installed = FileManager.default.fileExists(atPath: fixture.release)
            // The tree can only be whole: an install whose result line could not be
            // written afterwards says so, and is still an error.
            let reportLost = run.result.status == 1 && run.result.stderr.contains("netcache: error: cannot write to standard output")
            if run.result.status == 0 || (installed && reportLost) {
                XCTAssertTrue(installed, context)
                XCTAssertEqual(try ReleaseTree.nodes(at: fixture.release), expected, "the installed tree differs: \(context)")
            } else {
                XCTAssertFalse(installed, "a tree was left at \(fixture.release): \(context)")
            }
            if installed { try FileManager.default.removeItem(atPath: fixture.release) }
        }
        XCTAssertGreaterThan(outcomes[0] ?? 0, 0, "no install went through: \(outcomes)")
        XCTAssertGreaterThan(Self.runs - (outcomes[0] ?? 0), 0, "no fault was injected: \(outcomes)")

        let clean = try netcache("install", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(try ReleaseTree.nodes(at: fixture.release), expected)
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [], "left over by the faulty installs")
        XCTAssertEqual(try releaseLocks(), [], "release locks left by the faulty installs")
    }

    func testPublishesUnderFaultsFileOnlyWholeArchives() throws {
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config()
        var outcomes: [Int32: Int] = [:]
        for index in 0..<Self.runs {
            // A tree of its own each time: every run has an archive to upload and file.
            try Data("run \(index)\n".utf8).write(to: URL(fileURLWithPath: fixture.release + "/stamp"))
            let (pattern, probability) = Self.faults[index % Self.faults.count]
            let run = try FaultInjection.netcache(
                ["publish", "-c", config, "--software-url", fixture.softwareURL], faults: pattern, probability: probability / 2, timeout: Self.timeout)
            guard assertEndedCleanly(run, allowed: [0, 1], "run \(index) under \(pattern) at \(probability / 2): \(run.summary)") else { return }
            outcomes[run.result.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[0] ?? 0, 0, "no publish went through: \(outcomes)")
        XCTAssertGreaterThan(outcomes[1] ?? 0, 0, "no fault was injected: \(outcomes)")

        try Data("clean\n".utf8).write(to: URL(fileURLWithPath: fixture.release + "/stamp"))
        let clean = try netcache("publish", "-c", config, "--software-url", fixture.softwareURL)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertTrue(clean.output.contains("published: netcache:\(fixture.md5) chunks"), clean.output)
        let entries = try filedEntries(config)
        XCTAssertGreaterThanOrEqual(entries.count, 2 * ((outcomes[0] ?? 0) + 1), "entries missing from shadir")
        let expected = Set(try ReleaseTree.nodes(at: fixture.release).map(\.path) + [""])
        for entry in entries {
            try assertWhole(entry, holding: expected)
        }
        XCTAssertEqual(try fixture.strayEntries(besides: [fixture.md5]), [], "left over by the faulty publishes")
        XCTAssertEqual(try releaseLocks(), [], "release locks left by the faulty publishes")
    }

    /// An exit, no signal, within the timeout, with an allowed status; no trap's message;
    /// a failure says one line at most (none when that very write failed). `false` after
    /// a hang or a crash: the loop stops there, each hang costing the whole timeout.
    private func assertEndedCleanly(_ run: FaultInjection.Run, allowed: Set<Int32>, _ context: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard !run.hung else {
            XCTFail("hung: \(context)", file: file, line: line)
            return false
        }
        guard !run.signalled else {
            XCTFail("killed by a signal: \(context)", file: file, line: line)
            return false
        }
        XCTAssertTrue(allowed.contains(run.result.status), context, file: file, line: line)
        XCTAssertFalse(run.result.stderr.contains("Fatal error"), context, file: file, line: line)
        guard run.result.status != 0 else { return true }
        let lines = run.result.stderr.split(separator: "\n")
        let report = lines.filter { !$0.hasPrefix("netcache: warning: ") }
        XCTAssertLessThanOrEqual(report.count, 1, context, file: file, line: line)
        for reportLine in report {
            XCTAssertTrue(Self.failureLines.contains { reportLine.hasPrefix($0) }, context, file: file, line: line)
        }
        return true
    }

    /// The binary-cache entries filed for the release: format and SHA-512.
    private func filedEntries(_ config: String) throws -> [(format: String, sha512: String, size: Int?)] {
        let lookup = try netcache("lookup", "binary-sr", "-c", config, fixture.softwareURL, "--json")
        XCTAssertEqual(lookup.status, 0, lookup.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: lookup.stdout) as? [[String: Any]])
        return try rows.map { row in
            (try XCTUnwrap(row["format"] as? String), try XCTUnwrap(row["sha512"] as? String), row["size"] as? Int)
        }
    }

    /// The entry's blob downloads whole, hashes to its SHA-512, and holds every path of
    /// the release (`""`: the top directory).
    private func assertWhole(_ entry: (format: String, sha512: String, size: Int?), holding expected: Set<String>) throws {
        let name = "\(entry.format) entry \(entry.sha512.prefix(12))"
        let blob = try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + entry.sha512)
        XCTAssertEqual(blob.status, 200, name)
        XCTAssertEqual(StreamingDigest.sha512Hex(of: blob.body), entry.sha512, "\(name): not the blob it names")
        if let size = entry.size { XCTAssertEqual(blob.body.count, size, name) }
        if entry.format == "chunks" {
            let index = try ChunkIndex(decoding: Array(blob.body))
            XCTAssertEqual(Set(index.entries.map(\.path)), expected, "\(name): a partial tree")
            for chunk in index.chunks {
                let stored = try TestHTTP.request("GET", fixture.server.shacacheURL + "/" + chunk.blob)
                XCTAssertEqual(stored.status, 200, "\(name): chunk \(chunk.blob.prefix(12)) not stored")
                XCTAssertEqual(StreamingDigest.sha512Hex(of: stored.body), chunk.blob, "\(name): chunk \(chunk.blob.prefix(12)) is not what it names")
            }
            return
        }
        let archive = fixture.directory.appendingPathComponent("blob").path
        try Data(blob.body).write(to: URL(fileURLWithPath: archive))
        let listed = try NetcacheTests.run(URL(fileURLWithPath: "/bin/tar"), ["--gzip", "-tf", archive])
        XCTAssertEqual(listed.status, 0, "\(name): \(listed.stderr)")
        let paths = Set(listed.output.split(separator: "\n").map { line -> String in
            var path = String(line.dropFirst(fixture.md5.count))
            if path.hasSuffix("/") { path.removeLast() }
            return path.hasPrefix("/") ? String(path.dropFirst()) : path
        })
        XCTAssertEqual(paths, expected, "\(name): a partial tree")
    }

    /// Lock files of this release still there: root keeps them in /run/netcache, other
    /// users in software_root (which `strayEntries` covers).
    private func releaseLocks() throws -> [String] {
        guard geteuid() == 0 else { return [] }
        var status = stat()
        guard stat(fixture.softwareRoot, &status) == 0 else { throw TestFailure("cannot stat \(fixture.softwareRoot)") }
        let name = "\(status.st_dev)-\(status.st_ino)-\(fixture.md5)"
        return FileManager.default.fileExists(atPath: "/run/netcache/" + name) ? [name] : []
    }
}
