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
        let contents = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/dpkg-deb"), ["-c", deb]).output
        for file in files.map({ "./usr/" + $0 }) + ["./lib/systemd/system/netcache.service", "./etc/default/netcache"] {
            XCTAssertTrue(contents.contains(" " + file + "\n"), file)
        }
        let unit = try NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/netcache.service"]).output
        XCTAssertTrue(unit.contains("Type=notify\n") && unit.contains("ExecStart=/usr/bin/netcache serve --data /var/lib/netcache $NETCACHE_OPTIONS\n"), unit)
    }
}
