import Foundation
import Synchronization

/// A loopback TCP proxy in front of a server that holds the requests `holds` picks (every
/// one, by default) until `open()`: a transfer from upstream is then under way, or a
/// client waits on a request, for as long as a test needs; or cuts every request it
/// takes. It keeps the line of each request it takes as it arrives. One request per connection, with a body only by
/// `Content-Length`.
final class GatedProxy: @unchecked Sendable {
    let url: String
    private let listener: Int32
    private let upstreamPort: Int
    private let holds: @Sendable (_ requestLine: String) -> Bool
    private let gate = DispatchGroup()
    private let taken = Mutex<[String]>([])
    private let cutting = Mutex(false)

    init(upstream: String, holding holds: @escaping @Sendable (_ requestLine: String) -> Bool = { _ in true }) throws {
        self.holds = holds
        upstreamPort = try RawSocket.port(of: upstream)
        (listener, url) = try RawSocket.listenOnLoopback()
        gate.enter()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Lets every held request, and every later one, through.
    func open() {
        gate.leave()
    }

    /// While set, each request taken is answered by closing its connection: an upstream
    /// that cannot be reached.
    var cuts: Bool {
        get { cutting.withLock { $0 } }
        set { cutting.withLock { $0 = newValue } }
    }

    /// The request lines taken so far (`GET /shacache/… HTTP/1.1`).
    var requests: [String] { taken.withLock { $0 } }

    /// The line of the first request held, once one is; `nil` after `timeout` seconds.
    func firstHeld(within timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let line = requests.first(where: holds) { return line }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let request = RawSocket.readRequestHead(client) else { return }
        let lines = request.components(separatedBy: "\r\n")
        taken.withLock { $0.append(lines[0]) }
        let length = lines.lazy.compactMap { line -> Int? in
            let field = line.split(separator: ":", maxSplits: 1)
            guard field.count == 2, field[0].lowercased() == "content-length" else { return nil }
            return Int(field[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        guard let body = RawSocket.read(length, from: client) else { return }
        if cuts { return }
        if holds(lines[0]) { gate.wait() }
        guard let upstream = try? RawSocket.connectLoopback(port: upstreamPort) else { return }
        defer { close(upstream) }
        // Ask upstream to close after answering, whatever the client asked, so that one read
        // loop sees the whole answer and the client does not send another on this connection.
        let kept = lines.filter { !$0.isEmpty && !$0.lowercased().hasPrefix("connection:") }
        let forwarded = (kept + ["Connection: close", "", ""]).joined(separator: "\r\n")
        guard RawSocket.sendAll(Array(forwarded.utf8) + body, on: upstream) else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(upstream, &buffer, buffer.count, 0)
            guard count > 0, RawSocket.sendAll(Array(buffer[..<count]), on: client) else { return }
        }
    }
}
