import Foundation
import NetcacheClient
import XCTest

/// The manual pages: lint-clean, and covering every command, option and configuration key.
final class ManualTests: XCTestCase {
    private let pages = ["netcache.1", "netcache.cfg.5", "netcache-serve.8"]

    private func page(_ name: String) throws -> String {
        try String(contentsOf: Binaries.packageRoot.appendingPathComponent("man/" + name), encoding: .utf8)
    }

    func testEveryPageIsLintCleanForMandoc() throws {
        for name in pages {
            let path = Binaries.packageRoot.appendingPathComponent("man/" + name).path
            let lint = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/mandoc"), ["-T", "lint", "-W", "warning", path])
            XCTAssertEqual(lint.status, 0, name + ": " + lint.output + lint.stderr)
            XCTAssertEqual(lint.output, "", name)
            // Style: only the pages this system does not have may go unresolved.
            let style = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/mandoc"), ["-T", "lint", path])
            let remarks = style.output.split(separator: "\n").map(String.init).filter { !$0.contains("referenced manual not found") }
            XCTAssertEqual(remarks, [], name)
        }
    }

    func testTheCommandManualIsTheOneItsScriptWritesFromTheHelp() throws {
        let committed = try page("netcache.1")
        let generated = try NetcacheTests.run(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [Binaries.packageRoot.appendingPathComponent("scripts/generate-manual.py").path, Binaries.netcache.path, "DATE"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let withoutDate = { (text: String) in text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(".Dd ") } }
        XCTAssertTrue(withoutDate(committed) == withoutDate(generated.output), "man/netcache.1 is out of date: run scripts/generate-manual.sh")
    }

    func testEverySubcommandAndOptionOfTheHelpIsInTheManual() throws {
        let dump = try netcache("--experimental-dump-help")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: dump.stdout) as? [String: Any])["command"] as? [String: Any]
        let manual = try page("netcache.1")
        var seen = 0
        func walk(_ node: [String: Any], _ path: [String]) {
            let name = path.joined(separator: " ")
            if path.count > 1 { XCTAssertTrue(manual.contains(".Ss " + name + "\n"), "\(name) missing") }
            for argument in node["arguments"] as? [[String: Any]] ?? [] {
                for spelling in argument["names"] as? [[String: String]] ?? [] where spelling["name"] != "help" && spelling["name"] != "h" && (path.count == 1 || spelling["name"] != "version") {
                    let flag = "Fl " + (spelling["kind"] == "short" ? "" : "-") + spelling["name"]!
                    XCTAssertTrue(manual.contains(flag), "\(name): \(flag) missing")
                    seen += 1
                }
            }
            for sub in node["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path + [sub["commandName"] as! String])
            }
        }
        walk(try XCTUnwrap(root), ["netcache"])
        XCTAssertGreaterThan(seen, 100)
        for section in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] { XCTAssertTrue(manual.contains(".Sh " + section), section) }
    }

    func testEveryConfigurationKeyIsInTheConfigurationManual() throws {
        let manual = try page("netcache.cfg.5")
        for key in NetworkCacheKeys.shared + NetworkCacheKeys.netcacheOnly + ["software_root", "software_min_free_space"] {
            XCTAssertTrue(manual.contains("Cm " + key), key)
        }
    }

    func testEverySubcommandExplainsItselfWithHelp() throws {
        let dump = try netcache("--experimental-dump-help")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: dump.stdout) as? [String: Any])["command"] as? [String: Any]
        var paths: [[String]] = []
        func walk(_ node: [String: Any], _ path: [String]) {
            paths.append(path)
            for sub in node["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path + [sub["commandName"] as! String])
            }
        }
        walk(try XCTUnwrap(root), [])
        XCTAssertGreaterThan(paths.count, 20)
        for path in paths {
            let help = try netcache(arguments: path + ["--help"])
            XCTAssertEqual(help.status, 0, path.joined(separator: " "))
            XCTAssertTrue(help.output.contains("USAGE: netcache" + path.map { " " + $0 }.joined()), path.joined(separator: " ") + ": " + help.output)
            // The texts are written for the terminal's width, not wrapped twice.
            XCTAssertFalse(help.output.split(separator: "\n").contains { $0.count > 80 && !$0.contains("USAGE") }, path.joined(separator: " ") + ": " + help.output)
        }
    }
}
