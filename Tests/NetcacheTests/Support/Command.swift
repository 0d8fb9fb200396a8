import Foundation

/// Runs a program to completion, with its output captured.
struct CommandResult {
    let status: Int32
    let stdout: Data
    let stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// A command still running after `timeout` seconds is killed and its test fails: a hang
/// ends one test, not the whole run.
@discardableResult
func run(
    _ executable: URL, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil, directory: URL? = nil,
    timeout: TimeInterval = 600
) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = directory }
    let scratch = try TemporaryDirectory.make()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("out")
    let errURL = scratch.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    if let input {
        let inURL = scratch.appendingPathComponent("in")
        try input.write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    if exited.wait(timeout: .now() + timeout) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) still ran after \(Int(timeout)) s")
    }
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
        stderr: try String(contentsOf: errURL, encoding: .utf8))
}

/// `netcache ARGS...`
@discardableResult
func netcache(_ arguments: String..., input: Data? = nil, directory: URL? = nil) throws -> CommandResult {
    try run(Binaries.netcache, arguments, input: input, directory: directory)
}

@discardableResult
func netcache(arguments: [String], input: Data? = nil, directory: URL? = nil) throws -> CommandResult {
    try run(Binaries.netcache, arguments, input: input, directory: directory)
}

/// `openssl ARGS...`, for test certificates and cross-checks.
@discardableResult
func openssl(_ arguments: String...) throws -> CommandResult {
    let result = try run(URL(fileURLWithPath: "/usr/bin/openssl"), arguments)
    guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
    return result
}

extension Process {
    /// SIGTERM, then waits: what stops a server the tests started.
    func terminateAndWait() {
        if isRunning {
            terminate()
            waitUntilExit()
        }
    }
}
