import Foundation
import HummingbirdBcrypt
import XCTest

/// `serve --config FILE`: the same server as the same options on the command line, which
/// override the file.
final class ServeConfigFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func write(_ text: String) throws -> String {
        let path = directory.appendingPathComponent("serve-\(UUID().uuidString).cfg").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testAFileGivesTheServerTheCommandLinesOptionsAndTheCommandLineWins() throws {
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("secret", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let options = ["--basic-auth-file", passwords.path, "--max-upload-size", "1K", "--private-downloads", "--log-format", "json"]
        let config = try write(
            """
            [serve]
            basic-auth-file = \(passwords.path)
            max-upload-size = 1K
            private-downloads = true
            allow-anonymous-uploads = false
            log-format = json
            """)
        let byCommandLine = try ServerProcess(arguments: options, dataDirectory: try TemporaryDirectory.make())
        let byFile = try ServerProcess(arguments: ["--config", config], dataDirectory: try TemporaryDirectory.make())
        for server in [byCommandLine, byFile] {
            let credentials = server.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:secret@")
            XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: [1]).status, 401)
            XCTAssertEqual(try TestHTTP.request("POST", credentials, body: Array(repeating: 1, count: 2000)).status, 413)
            XCTAssertEqual(try TestHTTP.request("POST", credentials, body: [1]).status, 201)
            XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "0", count: 128)).status, 401)
            server.stop()
        }
        let startLines = [byCommandLine, byFile].map { $0.log.split(separator: "\n").first { $0.contains("uploads:") }.map { $0.replacingOccurrences(of: #""time": "[^"]*""#, with: "", options: .regularExpression) } }
        XCTAssertNotNil(startLines[0])
        XCTAssertEqual(startLines[0], startLines[1])

        let overridden = try ServerProcess(arguments: ["--config", config, "--max-upload-size", "4K"], dataDirectory: try TemporaryDirectory.make())
        let credentials = overridden.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:secret@")
        XCTAssertEqual(try TestHTTP.request("POST", credentials, body: Array(repeating: 1, count: 2000)).status, 201)
    }

    func testAnUnknownKeyOrAMissingSectionIsAUsageErrorNamingTheFile() throws {
        let misspelt = try write("[serve]\nlisten = 127.0.0.1:0\nmax-upload-sise = 1K\n")
        let result = try netcache("serve", "--config", misspelt)
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("\(misspelt): Unknown option '--max-upload-sise'"), result.stderr)
        let sectionless = try write("[server]\nlisten = 127.0.0.1:0\n")
        let other = try netcache("serve", "--config", sectionless)
        XCTAssertEqual(other.status, 64)
        XCTAssertTrue(other.stderr.contains("\(sectionless): no [serve] section"), other.stderr)
    }
}
