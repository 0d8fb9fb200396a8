import Foundation

/// `netcache` run under libfiu's `fiu-run` (Debian's fiu-utils), which makes the C
/// library calls whose failure points match a pattern fail at random: `posix/io/*` is
/// read, write, open, close, fsync, readdir, rename, the sockets; `posix/io/rw/*`,
/// `posix/io/oc/*`, `posix/io/dir/*` parts of it.
enum FaultInjection {
    static let fiuRun = URL(fileURLWithPath: "/usr/bin/fiu-run")

    /// How a run ended.
    struct Run {
        let result: CommandResult
        /// Still running at the timeout, then killed: it hung. `threads` is where its
        /// threads waited (gdb), when gdb is installed.
        let hung: Bool
        let threads: String
        /// Ended by a signal (a trap, a crash) instead of exiting.
        let signalled: Bool

        /// What a failure message shows of the run.
        var summary: String {
            "status \(result.status)\(signalled ? " (signal)" : "")\(hung ? " (hung)" : ""), stderr: \(result.stderr)\(threads)"
        }
    }

    /// `netcache ARGS...` with each call matching `faults` failing with `probability`,
    /// killed after `timeout`.
    static func netcache(_ arguments: [String], faults: String, probability: Double, timeout: TimeInterval) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: fiuRun.path) else {
            throw TestFailure("\(fiuRun.path) is missing: install fiu-utils (scripts/test.sh does)")
        }
        let scratch = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = fiuRun
        // -f "": no control FIFO left in /tmp. Swift's backtracer would itself wait on
        // the injected faults: a trap must end the run, and its message says enough.
        process.arguments = ["-x", "-f", "", "-c", "enable_random name=\(faults),probability=\(probability)", Binaries.netcache.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var threads = ""
        let hung = process.isRunning
        if hung {
            threads = backtraces(of: process.processIdentifier)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let result = CommandResult(
            status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
        return Run(result: result, hung: hung, threads: threads, signalled: process.terminationReason == .uncaughtSignal)
    }

    /// Every thread's stack, to see what a hung run waits for.
    static func backtraces(of pid: Int32) -> String {
        let gdb = URL(fileURLWithPath: "/usr/bin/gdb")
        guard FileManager.default.isExecutableFile(atPath: gdb.path),
            let traced = try? run(gdb, ["-p", "\(pid)", "-batch", "-ex", "thread apply all bt"])
        else { return "" }
        return "\nthreads:\n" + traced.output.split(separator: "\n").filter { $0.hasPrefix("#") || $0.hasPrefix("Thread") }.joined(separator: "\n")
    }

    static let fiuControl = URL(fileURLWithPath: "/usr/bin/fiu-ctrl")

    /// The libfiu commands that make a server's calls matching `pattern` fail with
    /// `probability`, as a disk or a network does, but for three calls that no disk or
    /// network fails that way, and whose failure SwiftNIO takes for its own bug (checked):
    ///
    /// - each failure sets `errno` to EIO (`failinfo`): left to itself libfiu draws it from
    ///   the manual's whole list, and NIO traps on EFAULT, EBADF or EINVAL ("unacceptable
    ///   errno 22 Invalid argument in read");
    /// - `read` never fails nor comes back short: NIO reads its event loops' timer
    ///   descriptors with `try!` (a trap on any error), and a shortened count is EINVAL
    ///   there. NIO reads sockets with `read` too, so theirs come from writes, `accept`,
    ///   `connect` and `socket`; files are read with `pread`, which still fails;
    /// - `close` never fails: libfiu's failed close leaves the descriptor open, which
    ///   Linux's never does, so a connection the server let go would stay open with nobody
    ///   reading it, a hang of libfiu's making;
    /// - `open` never fails: each second that work waits on its global queues, libdispatch
    ///   opens `/proc/TID/stat` for every worker thread and kills the process (SIGILL,
    ///   no message) when one of those opens fails: a core showed
    ///   `_dispatch_workq_monitor_pools`, in one S3 and PostgreSQL run in eight. Files
    ///   opened by path still fail to be read, written, synced and renamed.
    static func serverFaults(_ pattern: String, probability: Double) -> [String] {
        ["enable_random name=\(pattern),probability=\(probability),failinfo=\(EIO)"] + spared.map { "enable_random name=\($0),probability=0" }
    }

    private static let spared = ["posix/io/oc/open", "posix/io/oc/close", "posix/io/rw/read", "posix/io/rw/read/reduce"]

    /// Undoes `serverFaults`.
    static func healing(_ pattern: String) -> [String] {
        ["disable name=\(pattern)"] + spared.map { "disable name=\($0)" }
    }
}
