import Foundation

/// A real `netcache serve` under libfiu's `fiu-run`, on a free loopback port, with
/// `DIRECTORY/data` as its data directory (a `ServerProcess` on the same directory restarts
/// it without faults). It starts without faults, so that it starts at all; `inject` and
/// `heal` turn them on and off while it runs, through libfiu's control FIFO, kept in
/// `DIRECTORY`.
final class FaultyServer {
    let process = Process()
    let dataDirectory: URL
    let url: String
    private let errorLog: URL
    private let control: String

    init(arguments: [String] = [], directory: URL, environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: FaultInjection.fiuRun.path) else {
            throw TestFailure("\(FaultInjection.fiuRun.path) is missing: install fiu-utils (scripts/test.sh does)")
        }
        dataDirectory = directory.appendingPathComponent("data")
        control = directory.appendingPathComponent("fiu-ctrl").path
        errorLog = directory.appendingPathComponent("faulty-server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = FaultInjection.fiuRun
        process.arguments =
            ["-x", "-f", control, Binaries.netcache.path, "serve", "--listen", "127.0.0.1:0", "--data", dataDirectory.path] + arguments
        // Swift's backtracer would itself wait on the injected faults: a trap must end
        // the process, and its message says enough.
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorLog)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard let line = output.fileHandleForReading.readLine(), line.hasPrefix("listening on ") else {
            process.waitUntilExit()
            throw TestFailure("server did not start: \((try? String(contentsOf: errorLog, encoding: .utf8)) ?? "")")
        }
        url = String(line.dropFirst("listening on ".count))
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var shacacheURL: String { url + "/shacache" }
    var shadirURL: String { url + "/shadir" }
    var log: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// Runs libfiu control commands (`FaultInjection.serverFaults`, `.healing`) in the
    /// server. fiu-ctrl would wait forever on the FIFO of a server that died: it gets 10 s.
    func control(_ commands: [String]) throws {
        guard process.isRunning else { throw TestFailure("the faulty server is gone: \(log)") }
        let fiuControl = Process()
        fiuControl.executableURL = FaultInjection.fiuControl
        fiuControl.arguments = ["-f", control] + commands.flatMap { ["-c", $0] } + ["\(process.processIdentifier)"]
        let output = Pipe()
        fiuControl.standardOutput = output
        fiuControl.standardError = output
        fiuControl.standardInput = FileHandle.nullDevice
        try fiuControl.run()
        let deadline = Date().addingTimeInterval(10)
        while fiuControl.isRunning && Date() < deadline { usleep(10_000) }
        if fiuControl.isRunning {
            fiuControl.terminate()
            fiuControl.waitUntilExit()
            throw TestFailure("fiu-ctrl \(commands) got no answer within 10 s")
        }
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard fiuControl.terminationStatus == 0, !said.contains("rror") else {
            throw TestFailure("fiu-ctrl \(commands): status \(fiuControl.terminationStatus) \(said)")
        }
    }

    /// How the server ended on SIGTERM: within 15 s, or killed then with its threads'
    /// stacks, as `FaultInjection.Run` tells.
    func stop() -> (status: Int32, signalled: Bool, hung: Bool, threads: String) {
        guard process.isRunning else {
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal, false, "")
        }
        process.terminate()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var threads = ""
        let hung = process.isRunning
        if hung {
            threads = FaultInjection.backtraces(of: process.processIdentifier)
            Foundation.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return (process.terminationStatus, !hung && process.terminationReason == .uncaughtSignal, hung, threads)
    }
}
