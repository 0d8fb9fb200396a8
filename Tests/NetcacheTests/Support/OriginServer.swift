import Foundation

/// A real HTTP origin on loopback (fixtures/origin/origin.py) serving the files of a
/// directory, with `/redirect/NAME` answering 302 to `/NAME`; it can be stopped to play a
/// dead origin, and counts the requests it got.
final class OriginServer {
    let root: URL
    let url: String
    private let process = Process()
    private let requestLog: URL

    init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        requestLog = root.deletingLastPathComponent().appendingPathComponent("origin-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: requestLog.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Binaries.packageRoot.appendingPathComponent("fixtures/origin/origin.py").path, root.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: requestLog)
        try process.run()
        guard let line = output.fileHandleForReading.readLine(), line.hasPrefix("listening on "), let port = Int(line.dropFirst(13)) else {
            process.terminate()
            throw TestFailure("the origin did not start")
        }
        url = "http://127.0.0.1:\(port)"
    }

    deinit {
        stop()
    }

    /// Serves `bytes` as `/name`.
    func serve(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: root.appendingPathComponent(name))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// The paths asked for so far, in order.
    var requests: [String] {
        let text = (try? String(contentsOf: requestLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { String($0.dropFirst(4)) }
    }
}
