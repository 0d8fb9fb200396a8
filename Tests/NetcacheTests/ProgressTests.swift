import Foundation
import XCTest

/// The progress line: drawn on a terminal (a pseudo-terminal from `script`), never in a pipe,
/// nor with --quiet; erased before the result is printed.
final class ProgressTests: XCTestCase {
    private let erase = "\r\u{1B}[K"

    /// Runs netcache under a pseudo-terminal; what the terminal showed.
    private func onTerminal(_ arguments: [String]) throws -> String {
        let command = ([Binaries.netcache.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/script"), ["-q", "-e", "-c", command, "/dev/null"])
        XCTAssertEqual(result.status, 0, result.output)
        return result.output
    }

    func testTransfersAndPackingShowProgressOnATerminalOnly() throws {
        let fixture = try BinaryCacheFixture()
        try ReleaseTree.make(at: fixture.release)
        let config = try fixture.config(extra: "upload-cache-url = \(fixture.server.shacacheURL)\nupload-dir-url = \(fixture.server.shadirURL)")
        let file = fixture.directory.appendingPathComponent("payload")
        try Interop.bytes(8 << 20, seed: 10).write(to: file)

        let upload = try onTerminal(["upload", "-c", config, "--file", file.path])
        XCTAssertTrue(upload.contains(erase + "POST shacache: "), upload)
        XCTAssertTrue(upload.contains(" of 8.0 MiB"), upload)
        // Erased before the result, which starts its own line.
        XCTAssertTrue(upload.contains(erase + "sha512: "), upload)

        let publish = try onTerminal(["publish", "-c", config, "--software-url", fixture.softwareURL])
        XCTAssertTrue(publish.contains(erase + "packed "), publish)
        XCTAssertTrue(publish.contains(erase + "POST shacache: "), publish)

        try FileManager.default.removeItem(atPath: fixture.release)
        let install = try onTerminal(["install", "-c", config, "--software-url", fixture.softwareURL])
        XCTAssertTrue(install.contains(erase + "GET shacache/"), install)
        XCTAssertTrue(install.contains(erase + "installed: "), install)

        let quiet = try onTerminal(["upload", "-c", config, "--file", file.path, "--quiet"])
        XCTAssertFalse(quiet.contains(erase), quiet)
        let piped = try netcache("upload", "-c", config, "--file", file.path)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stderr.contains(erase) || piped.output.contains(erase), piped.stderr)
    }
}
