import Foundation
import XCTest

/// A real `netcache serve` process on a free loopback port, with its own data directory.
final class ServerProcess {
    let process = Process()
    let dataDirectory: URL
    let url: String
    private let errorLog: URL

    /// Starts the server and waits for its "listening on URL" line.
    init(arguments: [String] = [], dataDirectory: URL? = nil, environment: [String: String] = [:]) throws {
        let directory = try dataDirectory ?? TemporaryDirectory.make()
        self.dataDirectory = directory.appendingPathComponent("data")
        errorLog = directory.appendingPathComponent("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = Binaries.netcache
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data", self.dataDirectory.path] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        guard let line = output.fileHandleForReading.readLine(), line.hasPrefix("listening on ") else {
            process.waitUntilExit()
            throw TestFailure("server did not start: \(try String(contentsOf: errorLog, encoding: .utf8))")
        }
        url = String(line.dropFirst("listening on ".count))
    }

    deinit {
        stop()
    }

    func stop() {
        process.terminateAndWait()
    }

    /// kill -9: no shutdown of any kind.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// Sends SIGHUP and waits for the server to log the outcome of the reload: the line
    /// after the log as it was, which starts with "SIGHUP".
    @discardableResult
    func reload(timeout: TimeInterval = 10) throws -> String {
        let before = log.count
        Foundation.kill(process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = log.dropFirst(before).split(separator: "\n").first(where: { $0.contains("SIGHUP") }) { return String(line) }
            usleep(20_000)
        }
        throw TestFailure("no reload logged within \(timeout) s: \(log)")
    }

    var shacacheURL: String { url + "/shacache" }
    var shadirURL: String { url + "/shadir" }

    /// A sample of `GET /metrics` by its name and labels as printed
    /// (`netcache_upstream_total{kind="blob",outcome="hit"}`); `nil` when not printed.
    func metric(_ name: String) throws -> Double? {
        try TestHTTP.request("GET", url + "/metrics").text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    /// The blob files stored, whatever their names.
    func storedBlobs() -> [String] {
        let root = dataDirectory.appendingPathComponent("shacache")
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files
    }

    func stagedFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.appendingPathComponent("staging").path)) ?? []
    }
}

extension FileHandle {
    /// Reads up to the next newline (unbuffered, one byte at a time: only for short lines).
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            guard let byte = try? read(upToCount: 1), let first = byte.first else {
                return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

enum TemporaryDirectory {
    static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netcache-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Where the build put the `netcache` executable (beside the test bundle).
enum Binaries {
    static let productsDirectory: URL = {
        var url = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("netcache").path) && url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static var netcache: URL { productsDirectory.appendingPathComponent("netcache") }

    /// The package root, for fixtures and the interop venv.
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()
}
