import Foundation
import XCTest

/// What a user who mistypes sees: one format for every failure (`netcache: error: ...`),
/// the option or command meant, the usage of the command given, and what they gave named
/// in place of library internals.
final class CommandLineMessageTests: XCTestCase {
    func testAMisspeltOptionIsNamedWithTheOneMeant() throws {
        let download = try netcache("download", "-c", "slapos.cfg", "--kye", "test:hello")
        XCTAssertEqual(download.status, 64)
        XCTAssertEqual(firstLine(download), "netcache: error: unknown option '--kye'; did you mean '--key'?")
        XCTAssertTrue(download.stderr.contains("\nUsage: netcache download "), download.stderr)
        XCTAssertTrue(download.stderr.hasSuffix("\n  See 'netcache download --help' for more information.\n"), download.stderr)

        let upload = try netcache("upload", "-c", "slapos.cfg", "--fiel", "x")
        XCTAssertEqual(upload.status, 64)
        XCTAssertEqual(firstLine(upload), "netcache: error: unknown option '--fiel'; did you mean '--file'?")
    }

    func testAMisspeltCommandIsNamedWithTheOneMeant() throws {
        let result = try netcache("dowload", "-c", "slapos.cfg")
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(firstLine(result), "netcache: error: unknown command 'dowload'; did you mean 'download'?")
        XCTAssertTrue(result.stderr.contains("\nUsage: netcache <subcommand>\n"), result.stderr)

        let nested = try netcache("admin", "usag")
        XCTAssertEqual(nested.status, 64)
        XCTAssertEqual(firstLine(nested), "netcache: error: unknown command 'usag'; did you mean 'usage'?")
        XCTAssertTrue(nested.stderr.contains("\nUsage: netcache admin <subcommand>\n"), nested.stderr)
    }

    func testAUsageErrorOfACommandShowsThatCommandsUsage() throws {
        let result = try netcache("upload", "-c", "slapos.cfg")
        XCTAssertEqual(result.status, 64)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "netcache: error: either --file or --url is required")
        XCTAssertTrue(lines.count > 1 && lines[1].hasPrefix("Usage: netcache upload "), result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("\n  See 'netcache upload --help' for more information.\n"), result.stderr)
    }

    func testAKeyWithoutASchemeIsRefused() throws {
        let result = try netcache("upload", "-c", "slapos.cfg", "--file", "/dev/null", "--key", "hello", "a=b")
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(firstLine(result), "netcache: error: --key takes SCHEME:NAME, such as test:hello or file-urlmd5:<md5>: 'hello' has no scheme")
    }

    func testAConfigurationPathThatIsADirectoryIsNamedWithTheSystemsReason() throws {
        let directory = try TemporaryDirectory.make()
        let data = directory.appendingPathComponent("data").path
        for (option, what) in [("--basic-auth-file", "basic auth file"), ("--trusted-certificates", "--trusted-certificates")] {
            let result = try netcache("serve", "--listen", "127.0.0.1:0", "--data", data, option, directory.path)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertEqual(result.stderr, "netcache: error: cannot read \(what) \(directory.path): Is a directory\n")
        }
        let tls = try netcache("serve", "--listen", "127.0.0.1:0", "--data", data, "--tls-cert", directory.path, "--tls-key", directory.path)
        XCTAssertEqual(tls.stderr, "netcache: error: cannot read --tls-cert \(directory.path): Is a directory\n")
        let garbage = directory.appendingPathComponent("garbage.pem")
        try Data("not PEM\n".utf8).write(to: garbage)
        let unparsed = try netcache("serve", "--listen", "127.0.0.1:0", "--data", data, "--tls-cert", garbage.path, "--tls-key", garbage.path)
        XCTAssertEqual(unparsed.stderr, "netcache: error: --tls-cert \(garbage.path): not a PEM certificate\n")
        let client = try netcache("download", "-c", directory.path, "--key", "test:x")
        XCTAssertEqual(client.stderr, "netcache: error: cannot read configuration file \(directory.path): Is a directory\n")
    }

    func testAPortInUseIsSaidPlainly() throws {
        let running = try ServerProcess()
        defer { running.stop() }
        let port = try RawSocket.port(of: running.url)
        let data = try TemporaryDirectory.make().appendingPathComponent("data").path
        let result = try netcache("serve", "--listen", "127.0.0.1:\(port)", "--data", data, "--log-level", "error")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "netcache: error: cannot listen on 127.0.0.1:\(port): Address already in use\n")
    }

    func testTheVersionNamesTheCommitItWasBuiltFrom() throws {
        let result = try netcache("--version")
        XCTAssertEqual(result.status, 0)
        let commit = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", Binaries.packageRoot.path, "rev-parse", "HEAD"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let count = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", Binaries.packageRoot.path, "rev-list", "--count", "HEAD"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(result.output.hasPrefix("netcache 0.\(count).\(commit.prefix(7)) (commit \(commit)"), result.output)
        XCTAssertTrue(result.output.hasSuffix(")\n"), result.output)
    }

    private func firstLine(_ result: CommandResult) -> String {
        String(result.stderr.prefix { $0 != "\n" })
    }
}
