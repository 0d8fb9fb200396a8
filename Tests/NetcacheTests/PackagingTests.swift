import Foundation
import XCTest

/// scripts/build-release.sh, on the binary under test (a release build takes minutes): the
/// tarball, its `make install`, and the Debian package.
final class PackagingTests: XCTestCase {
    func testTheTarballInstallsWithMakeAndTheDebianPackageHoldsTheSameWithItsUnit() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try NetcacheTests.run(
            URL(fileURLWithPath: "/bin/bash"),
            [Binaries.packageRoot.appendingPathComponent("scripts/build-release.sh").path, "--binary", Binaries.netcache.path, "--output", directory.path])
        XCTAssertEqual(built.status, 0, built.stderr)
        let outputs = built.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(outputs.count, 2, built.output)
        let (tarball, deb) = (outputs[0], outputs[1])
        XCTAssertTrue(tarball.hasSuffix(".tar.gz") && deb.hasSuffix(".deb"), built.output)

        let unpacked = directory.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        XCTAssertEqual(try NetcacheTests.run(URL(fileURLWithPath: "/bin/tar"), ["-C", unpacked.path, "-xzf", tarball]).status, 0)
        let top = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: unpacked.path).first)
        let prefix = directory.appendingPathComponent("prefix")
        let installed = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/make"), ["-C", unpacked.appendingPathComponent(top).path, "install", "PREFIX=" + prefix.path])
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let files = [
            "bin/netcache", "share/man/man1/netcache.1", "share/man/man5/netcache.cfg.5", "share/man/man8/netcache-serve.8",
            "share/bash-completion/completions/netcache", "share/zsh/site-functions/_netcache", "share/fish/vendor_completions.d/netcache.fish",
        ]
        for file in files {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), file)
        }
        let help = try NetcacheTests.run(prefix.appendingPathComponent("bin/netcache"), ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.contains("migrate"), help.output)
        let bash = try String(contentsOf: prefix.appendingPathComponent(files[4]), encoding: .utf8)
        XCTAssertTrue(bash.contains("serve") && bash.contains("--software-url"), "bash completion without the commands")
        let dependencies = try String(contentsOf: unpacked.appendingPathComponent(top + "/DEPENDENCIES"), encoding: .utf8)
        for package in ["libarchive13", "libcurl4", "libssl3", "libzstd1", "libelf1"] { XCTAssertTrue(dependencies.contains(package), dependencies) }

        let depends = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/dpkg-deb"), ["-f", deb, "Depends"]).output
        XCTAssertEqual(depends, "adduser, " + dependencies)
        // apt reports what the package takes: at least the binary it holds.
        let installedSize = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/dpkg-deb"), ["-f", deb, "Installed-Size"]).output
        let binaryKiB = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: Binaries.netcache.path)[.size] as? Int) / 1024
        XCTAssertGreaterThanOrEqual(Int(installedSize.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, binaryKiB, installedSize)
        try assertPurgeRemovesTheUserOnly(deb: deb, in: directory)
        let contents = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/dpkg-deb"), ["-c", deb]).output
        let units = ["netcache.service", "netcache-trust-timestamp.service", "netcache-trust-timestamp.timer"].map { "./lib/systemd/system/" + $0 }
        for file in files.map({ "./usr/" + $0 }) + units + ["./etc/default/netcache"] {
            XCTAssertTrue(contents.contains(" " + file + "\n"), file)
        }
        let unit = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/netcache.service"]).output
        XCTAssertTrue(unit.contains("Type=notify\n") && unit.contains("ExecStart=/usr/bin/netcache serve --data /var/lib/netcache $NETCACHE_OPTIONS\n"), unit)
        let timer = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/netcache-trust-timestamp.timer"]).output
        XCTAssertTrue(timer.contains("OnCalendar=hourly\n"), timer)
        // What the unit runs parses: the options it names are the command's.
        let stamp = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/netcache-trust-timestamp.service"]).output
        let execStart = try XCTUnwrap(stamp.split(separator: "\n").first { $0.hasPrefix("ExecStart=/usr/bin/netcache ") })
        let arguments = execStart.dropFirst("ExecStart=/usr/bin/netcache ".count).split(separator: " ").map(String.init)
        let parsed = try netcache(arguments: arguments)
        XCTAssertTrue(parsed.stderr.hasPrefix("netcache: error: cannot read configuration file /etc/netcache/trust-timestamp.cfg"), parsed.stderr)
    }

    /// The package's postrm, run as dpkg runs it, with `getent` and `deluser` standing in for
    /// the system's (the test must not remove a real user): `remove` keeps the user, `purge`
    /// removes it.
    private func assertPurgeRemovesTheUserOnly(deb: String, in directory: URL) throws {
        let control = directory.appendingPathComponent("control")
        XCTAssertEqual(try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/dpkg-deb"), ["-e", deb, control.path]).status, 0)
        let tools = directory.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let calls = directory.appendingPathComponent("deluser-calls")
        for (name, script) in [("getent", "#!/bin/sh\nexit 0\n"), ("deluser", "#!/bin/sh\necho \"$*\" >> '\(calls.path)'\n")] {
            let path = tools.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755]))
        }
        for action in ["remove", "purge"] {
            let result = try NetcacheTests.run(
                URL(fileURLWithPath: "/usr/bin/env"), ["PATH=\(tools.path):/usr/bin:/bin", "sh", control.appendingPathComponent("postrm").path, action])
            XCTAssertEqual(result.status, 0, "\(action): \(result.stderr)")
        }
        XCTAssertEqual(try String(contentsOf: calls, encoding: .utf8), "--system --quiet netcache\n")
    }
}
