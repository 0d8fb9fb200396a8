import Foundation
import XCTest

/// Relocation proven on real software: zlib, libffi and CPython, built from their upstream
/// sources by their own build systems under a long software_root A, the way a SlapOS
/// release builds its components (`scripts/real-software.sh`, which caches the build), are
/// published, removed, and installed under a much shorter root B. There, nothing may
/// still name A, the interpreter must use the compiled modules it was installed with, and
/// the projects' own test suites must pass.
final class RealSoftwareRelocationTests: XCTestCase {
    var fixture: BinaryCacheFixture!
    /// The build's cache: `tree/` (the release as installed under A/MD5), `root` (A).
    var cache: String!
    var rootA: String!
    var lock: Int32 = -1
    var made: [String] = []

    private let environment = [
        // Whatever the test runner has must not move the interpreter elsewhere or stop it
        // from writing bytecode (empty is unset, for Python).
        "PYTHONHOME": "", "PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": "", "PYTHONNOUSERSITE": "",
        "PYTHONUSERBASE": "", "VIRTUAL_ENV": "", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    ]

    override func setUpWithError() throws {
        fixture = try BinaryCacheFixture()
        let started = Date()
        let built = try NetcacheTests.run(URL(fileURLWithPath: "/bin/bash"), [Binaries.packageRoot.appendingPathComponent("scripts/real-software.sh").path, "build", fixture.softwareURL])
        guard built.status == 0, let last = built.output.split(separator: "\n").last else {
            throw TestFailure("scripts/real-software.sh build failed: \(built.stderr.suffix(6000))")
        }
        cache = String(last)
        rootA = try String(contentsOfFile: cache + "/root", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try String(contentsOfFile: cache + "/md5", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), fixture.md5)
        let timings = (try? String(contentsOfFile: cache + "/timings", encoding: .utf8)) ?? ""
        report("build (or cache) took \(seconds(since: started)); the fresh build took: \(timings.split(separator: "\n").joined(separator: ", "))")
        // A is one fixed path on the machine: one test at a time uses it.
        lock = open(rootA + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw TestFailure("cannot lock \(rootA!).lock") }
    }

    override func tearDown() {
        fixture?.server.stop()
        // The server's data holds the release twice (zstd and gzip), 150 MB.
        if let fixture { made.append(fixture.directory.path) }
        for path in made {
            _ = try? NetcacheTests.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "chmod -R u+w \"$1\" 2>/dev/null; rm -rf \"$1\"", "_", path])
        }
        if lock >= 0 { close(lock) }
    }

    private func report(_ line: String) {
        print("real software: \(line)")
    }

    private func seconds(since start: Date) -> String {
        String(format: "%.1f s", Date().timeIntervalSince(start))
    }

    /// slapos.cfg with another software_root.
    private func config(root: String) throws -> String {
        try fixture.config(root: root)
    }

    private func shell(_ script: String, _ arguments: String..., environment extra: [String: String] = [:]) throws -> CommandResult {
        try NetcacheTests.run(URL(fileURLWithPath: "/bin/bash"), ["-c", script, "bash"] + arguments, environment: environment.merging(extra) { $1 })
    }

    /// Copies the cached tree to A/MD5, publishes it from there and removes it.
    private func publish() throws {
        let release = rootA + "/" + fixture.md5
        made.append(release)
        var started = Date()
        let copied = try shell("rm -rf \"$2\" && mkdir -p \"$(dirname \"$2\")\" && cp -a \"$1\" \"$2\"", cache + "/tree", release)
        guard copied.status == 0 else { throw TestFailure("copying the tree to \(release): \(copied.stderr)") }
        let size = try shell("du -sh \"$1\" | cut -f1; find \"$1\" | wc -l", release).output.split(separator: "\n")
        report("tree of \(size.first ?? "?") in \(size.last ?? "?") entries copied to A in \(seconds(since: started))")
        started = Date()
        let published = try netcache("publish", "-c", try config(root: rootA), "--software-url", fixture.softwareURL, "--json")
        XCTAssertEqual(published.status, 0, published.stderr)
        report("publish took \(seconds(since: started)): \(published.output)")
        guard published.status == 0 else { throw TestFailure("publish failed: \(published.stderr)") }
        report("the entry's relocation record: \(try relocationRecord())")
        try FileManager.default.removeItem(atPath: release)
    }

    /// What the zstd entry's `relocation` object says, and what its manifest lists, by
    /// kind, for the report.
    private func relocationRecord() throws -> String {
        let summary = try shell(
            """
            curl -fsS "$1/netcache:$3" | /usr/bin/python3 -c '
            import collections, json, sys, urllib.request
            for entry in json.load(sys.stdin):
                record = json.loads(entry[0]).get("relocation")
                if record is None:
                    continue
                relocatable, refusal, manifest = record["relocatable"], record["refusal"], record.get("manifest")
                line = f"relocatable {relocatable}, refusal {refusal!r}"
                if isinstance(manifest, dict):
                    lines = urllib.request.urlopen(sys.argv[1] + "/" + manifest["sha512"]).read().decode().splitlines()
                    items = [json.loads(text) for text in lines]
                    files = collections.Counter(item[0] for item in items)
                    occurrences = collections.Counter()
                    for item in items:
                        occurrences[item[0]] += len(item[2]) if len(item) > 2 else 1
                    kinds = ", ".join(f"{kind} {files[kind]} ({occurrences[kind]} occurrences)" for kind in sorted(files))
                    size = manifest["size"]
                    line += f"; manifest of {size} bytes: {kinds}"
                elif "text" in record:
                    kinds = ", ".join(f"{kind} {len(record[kind])}" for kind in ("text", "elf", "binary", "symlinks", "bytecode"))
                    line += f"; inline lists: {kinds}, {len(json.dumps(record))} bytes of JSON"
                else:
                    line += f"; manifest {manifest!r}"
                print(line)
            ' "$2"
            """, fixture.server.shadirURL, fixture.server.shacacheURL, fixture.md5)
        return summary.status == 0 ? summary.output.trimmingCharacters(in: .newlines) : "unreadable: \(summary.stderr)"
    }

    /// Installs under `root`, or fails with what `lookup binary-sr` says of each entry.
    private func install(under root: String) throws -> String {
        let configuration = try config(root: root)
        let lookup = try netcache("lookup", "binary-sr", "-c", configuration, fixture.softwareURL, "--json")
        report("lookup binary-sr under \(root): \(lookup.output)")
        let started = Date()
        let installed = try netcache("install", "-c", configuration, "--software-url", fixture.softwareURL, "--json")
        report("install took \(seconds(since: started)): \(installed.output)")
        guard installed.status == 0 else {
            throw TestFailure("install under \(root) failed (exit \(installed.status)): \(installed.stderr)\(installed.output)")
        }
        return root + "/" + fixture.md5
    }

    /// Everything under `tree` that names A: file contents, symlink targets and names
    /// holding A or its last component (which also catches A written with escaped slashes).
    private func namingTheOldRoot(under tree: String) throws -> [String] {
        let component = (rootA as NSString).lastPathComponent
        let contents = try shell("grep -rlaF -e \"$2\" \"$1\" | sort; true", tree, component)
        let links = try shell("find \"$1\" -type l -printf '%P -> %l\\n'", tree)
        let names = try shell("find \"$1\" -name \"*$2*\" -printf '%P\\n'", tree, component)
        var found: [String] = []
        for path in contents.output.split(separator: "\n") {
            let relative = String(path.dropFirst(tree.count + 1))
            let counted = try shell("grep -aoF -e \"$2\" \"$1\" | wc -l; grep -qaF -e \"$3\" \"$1\" && echo whole || echo component", String(path), rootA, component)
            let lines = counted.output.split(separator: "\n")
            let kind = lines.last == "whole" ? "A" : "A's last component"
            found.append("\(relative): contents name \(kind), \(lines.first ?? "?") times\(try excerpt(of: String(path), component))")
        }
        found += links.output.split(separator: "\n").filter { $0.contains(component) }.map { "symlink \($0)" }
        found += names.output.split(separator: "\n").map { "file name \($0)" }
        return found
    }

    /// The first string holding `needle` in a file, for the report.
    private func excerpt(of path: String, _ needle: String) throws -> String {
        let strings = try shell("strings -a -n 8 \"$1\" | grep -m1 -F -e \"$2\" | cut -c1-300", path, needle)
        return strings.output.isEmpty ? "" : " (first: \(strings.output.trimmingCharacters(in: .newlines)))"
    }

    /// `path` without repeated slashes: a relocated tree may name its root padded with them.
    private func normalized(_ path: String) -> String {
        var result = ""
        for character in path where !(character == "/" && result.last == "/") { result.append(character) }
        return result
    }

    private func assertNamesTree(_ value: String, _ tree: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(normalized(value).hasPrefix(tree), "\(what) is \(value), not in \(tree)", file: file, line: line)
    }

    /// The checks, on the tree installed at `tree` (under B, or under A for the baseline).
    private func verify(tree: String, relocated: Bool) throws {
        let python = tree + "/bin/python3"

        // (a) Nothing names A.
        var started = Date()
        if relocated {
            let offenders = try namingTheOldRoot(under: tree)
            XCTAssertEqual(offenders.count, 0, "\(offenders.count) places under \(tree) still name \(rootA!):\n" + offenders.prefix(200).joined(separator: "\n"))
            report("walk for the old root took \(seconds(since: started)): \(offenders.count) offenders")
        }

        // (c) The interpreter imports its compiled modules as installed: with the tree made
        // read-only (root is not stopped by that, so the .pyc files' sizes and times are
        // compared too), `-v` says each .pyc matches its source, and none is compiled again.
        started = Date()
        let snapshot = "find \"$1\" -name '*.pyc' -printf '%P %s %T@\\n' | sort"
        let before = try shell(snapshot, tree).output
        XCTAssertEqual(try shell("chmod -R a-w \"$1\"", tree).status, 0)
        // sysconfig.get_config_vars() loads _sysconfigdata, whose source and bytecode both
        // hold the root.
        let modules = "import sysconfig, json, gzip, zipfile, ctypes, sqlite3, venv, email.message, http.client, ensurepip, asyncio, unittest, logging, argparse, decimal; sysconfig.get_config_vars(); sysconfig.get_paths(); import pip"
        let imported = try shell("cd / && \"$1\" -v -c \"$2\"", python, modules)
        XCTAssertEqual(imported.status, 0, String(imported.stderr.suffix(4000)))
        let lines = imported.stderr.split(separator: "\n")
        let fromPyc = lines.filter { $0.hasPrefix("# code object from '") && $0.hasSuffix(".pyc'") }
        let fromSource = lines.filter { $0.hasPrefix("# code object from ") && !$0.hasSuffix(".pyc'") }
        let matches = lines.filter { $0.contains(" matches ") && $0.hasPrefix("# ") }
        report("imports: \(fromPyc.count) modules from .pyc (\(matches.count) 'matches' lines), \(fromSource.count) compiled from source")
        XCTAssertEqual(fromSource.count, 0, "\(fromSource.count) modules compiled again from source instead of loaded from their .pyc: \(fromSource.prefix(20).joined(separator: ", "))")
        XCTAssertGreaterThan(fromPyc.count, 120, "the imports loaded too few .pyc files to tell")
        XCTAssertTrue(matches.contains { $0.hasSuffix("/lib/python3.11/_sysconfigdata__linux_x86_64-linux-gnu.py") }, "_sysconfigdata's .pyc was not used")
        let wrote = lines.filter { $0.hasPrefix("# created '") || $0.hasPrefix("# could not create ") }
        XCTAssertEqual(wrote.count, 0, "bytecode written: \(wrote.prefix(20).joined(separator: ", "))")
        let after = try shell(snapshot, tree).output
        if before != after {
            let old = Set(before.split(separator: "\n")), new = Set(after.split(separator: "\n"))
            let written = new.subtracting(old).sorted(), gone = old.subtracting(new).sorted()
            XCTFail("importing wrote \(written.count) .pyc files (\(gone.count) replaced): \(written.prefix(20).joined(separator: ", "))")
        }
        report("bytecode check took \(seconds(since: started))")

        // (b) Where the interpreter and its libraries think they are.
        started = Date()
        let whereabouts = try shell(
            """
            cd / && "$1" -c '
            import sys, sysconfig, zlib, ctypes, ssl
            maps = open("/proc/self/maps").read().split()
            loaded = lambda name: sorted({p for p in maps if p.rsplit("/", 1)[-1].startswith(name)})
            print(sys.prefix)
            print(sys.exec_prefix)
            print(sysconfig.get_paths()["stdlib"])
            print(sysconfig.get_paths()["include"])
            print(sysconfig.get_config_var("LIBDIR"))
            print(zlib.__file__)
            print(*loaded("libz.so"))
            print(*loaded("libffi.so"))
            print(*loaded("libpython3"))
            print(*sorted(k for k, v in sysconfig.get_config_vars().items() if isinstance(v, str) and sys.argv[1] in v))
            ' "$2"
            """, python, (rootA as NSString).lastPathComponent)
        XCTAssertEqual(whereabouts.status, 0, whereabouts.stderr)
        report("the interpreter says: \(whereabouts.output.split(separator: "\n").joined(separator: " | "))")
        let said = whereabouts.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if said.count >= 10 {
            if relocated { XCTAssertEqual(said[9], "", "sysconfig.get_config_vars() values naming A") }
            XCTAssertEqual(said[0], tree, "sys.prefix")
            XCTAssertEqual(said[1], tree, "sys.exec_prefix")
            for (index, what) in [(2, "stdlib"), (3, "include"), (4, "LIBDIR"), (5, "zlib.__file__"), (6, "libz.so.1 loaded"), (7, "libffi.so.8 loaded"), (8, "libpython3.11.so loaded")] {
                assertNamesTree(said[index], tree, what)
            }
        }

        for package in ["zlib", "libffi", "python3", "python3-embed"] {
            let flags = try shell("pkg-config --cflags --libs \"$2\"", tree, package, environment: ["PKG_CONFIG_PATH": tree + "/lib/pkgconfig"])
            XCTAssertEqual(flags.status, 0, flags.stderr)
            report("pkg-config --cflags --libs \(package): \(flags.output.trimmingCharacters(in: .newlines))")
            let paths = flags.output.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix("-I") || $0.hasPrefix("-L") }
            XCTAssertFalse(paths.isEmpty, "\(package): \(flags.output)")
            for path in paths { assertNamesTree(String(path.dropFirst(2)), tree, "\(package)'s \(path.prefix(2))") }
        }

        // pip of the tree (a script whose first line names the interpreter), and a venv made
        // by the interpreter, with pip working in it.
        let pip = try shell("cd / && \"$1\"/bin/pip3 --version", tree)
        XCTAssertEqual(pip.status, 0, pip.stderr)
        XCTAssertTrue(normalized(pip.output).contains(" from \(tree)/lib/python3.11/site-packages/pip"), pip.output)
        let venv = try TemporaryDirectory.make().appendingPathComponent("venv").path
        made.append((venv as NSString).deletingLastPathComponent)
        let madeVenv = try shell("cd / && \"$1\" -m venv \"$2\" && \"$2\"/bin/pip --version && \"$2\"/bin/pip list && \"$2\"/bin/python -c 'import sys, zlib; print(sys.base_prefix)'", python, venv)
        XCTAssertEqual(madeVenv.status, 0, madeVenv.stderr)
        XCTAssertTrue(madeVenv.output.contains(" from \(venv)/lib/python3.11/site-packages/pip"), madeVenv.output)
        XCTAssertEqual(madeVenv.output.split(separator: "\n").last.map { normalized(String($0)) }, tree, "the venv's base_prefix: \(madeVenv.output)")
        report("prefixes, pkg-config, pip and venv took \(seconds(since: started))")

        // The projects' own test suites.
        started = Date()
        let suites = try NetcacheTests.run(
            URL(fileURLWithPath: "/bin/bash"), [Binaries.packageRoot.appendingPathComponent("scripts/real-software.sh").path, "check", cache, tree],
            environment: environment)
        report("test suites took \(seconds(since: started)):\n\(suites.output.split(separator: "\n").filter { !$0.hasPrefix("PASS ") && !$0.hasPrefix("0:") }.joined(separator: "\n"))")
        XCTAssertEqual(suites.status, 0, "the projects' test suites failed under \(tree):\n\(suites.output.suffix(8000))\n\(suites.stderr.suffix(4000))")
    }

    /// Built under A, installed under a much shorter B.
    func testRealSoftwareBuiltUnderALongRootPassesItsTestsUnderAShorterOne() throws {
        try publish()
        // Much shorter than A (80 characters), and not a prefix of it.
        var template = Array("/tmp/nc-rs-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))") }
        let rootB = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        made.append(rootB)
        XCTAssertLessThan(rootB.count, rootA.count / 4)
        let tree = try install(under: rootB)
        try verify(tree: tree, relocated: true)
    }

    /// The baseline: the same checks on the release installed under the root it was built
    /// under, where nothing is relocated; they must pass here for the relocated run to
    /// mean anything.
    func testRealSoftwarePassesItsTestsUnderTheRootItWasBuiltUnder() throws {
        try publish()
        let tree = try install(under: rootA)
        try verify(tree: tree, relocated: false)
    }
}
