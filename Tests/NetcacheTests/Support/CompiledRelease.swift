import Foundation

/// Release trees built with the system compiler, the way buildout builds them: absolute
/// paths into the tree compiled in.
enum CompiledRelease {
    static func gcc(_ arguments: String...) throws {
        let result = try run(URL(fileURLWithPath: "/usr/bin/gcc"), arguments)
        guard result.status == 0 else { throw TestFailure("gcc \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    /// `lib/libdemo.so.1` (and `libdemo.so`), `share/data.txt`, and `bin/demo`, which links
    /// the library through an absolute RUNPATH into the tree, needs libm, and prints
    /// "44 " and the data file, whose absolute path is compiled in.
    static func make(at release: String, scratch: URL) throws {
        for directory in ["lib", "bin", "share"] {
            try FileManager.default.createDirectory(atPath: release + "/" + directory, withIntermediateDirectories: true)
        }
        let library = scratch.appendingPathComponent("demo.c").path
        try "int demo_answer(void) { return 42; }\n".write(toFile: library, atomically: true, encoding: .utf8)
        try gcc("-shared", "-fPIC", "-Wl,-soname,libdemo.so.1", "-o", release + "/lib/libdemo.so.1", library)
        try FileManager.default.createSymbolicLink(atPath: release + "/lib/libdemo.so", withDestinationPath: "libdemo.so.1")
        try "hello from the tree\n".write(toFile: release + "/share/data.txt", atomically: true, encoding: .utf8)
        let program = scratch.appendingPathComponent("main.c").path
        try """
            #include <math.h>
            #include <stdio.h>
            int demo_answer(void);
            int main(int argc, char **argv) {
                (void)argv;
                FILE *data = fopen(DATA, "r");
                char line[256];
                if (!data || !fgets(line, sizeof line, data)) return 2;
                printf("%d %s", demo_answer() + (int)sqrt((double)argc + 3.0), line);
                return 0;
            }
            """.write(toFile: program, atomically: true, encoding: .utf8)
        try gcc("-o", release + "/bin/demo", program, "-DDATA=\"\(release)/share/data.txt\"", "-L\(release)/lib", "-ldemo", "-lm", "-Wl,-rpath,\(release)/lib")
    }

    /// `bin/needs-gone`, linked to a library that stays outside the tree, in `scratch`.
    static func addProgramNeedingAMissingLibrary(at release: String, scratch: URL) throws {
        let library = scratch.appendingPathComponent("gone.c").path
        try "int gone(void) { return 1; }\n".write(toFile: library, atomically: true, encoding: .utf8)
        try gcc("-shared", "-fPIC", "-Wl,-soname,libgone.so.1", "-o", scratch.appendingPathComponent("libgone.so").path, library)
        let program = scratch.appendingPathComponent("needs.c").path
        try "int gone(void);\nint main(void) { return gone(); }\n".write(toFile: program, atomically: true, encoding: .utf8)
        try gcc("-o", release + "/bin/needs-gone", program, "-L\(scratch.path)", "-lgone")
    }

    /// `bin/demo-future`: `bin/demo` claiming to need a C library version from the future.
    static func addProgramNeedingAFutureGlibc(at release: String) throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: release + "/bin/demo")))
        let present = Array("GLIBC_2.34".utf8)
        guard let offset = (0...(bytes.count - present.count)).first(where: { bytes[$0..<($0 + present.count)].elementsEqual(present) }) else {
            throw TestFailure("bin/demo needs no GLIBC_2.34 to patch")
        }
        bytes.replaceSubrange(offset..<(offset + present.count), with: Array("GLIBC_2.99".utf8))
        try Data(bytes).write(to: URL(fileURLWithPath: release + "/bin/demo-future"))
        chmod(release + "/bin/demo-future", 0o755)
    }
}
