import Foundation
import Synchronization

/// A loopback TCP proxy in front of a server that holds the requests `holds` picks (every
/// one, by default) until `open()`: a transfer from upstream is then under way, or a
/// client waits on a request, for as long as a test needs; or cuts every request it takes
/// while `cuts` is set. It keeps the line of each request it takes as it arrives, before
/// anything is forwarded. One request per connection: both sides are told to close after
/// it. A request body goes through only with a `Content-Length`; a chunked one is cut.
final class GatedProxy: Sendable {
    let url: String
    private let relay: Relay

    init(upstream: String, holding holds: @escaping @Sendable (_ requestLine: String) -> Bool = { _ in true }) throws {
        let (listener, url) = try RawSocket.listenOnLoopback()
        self.url = url
        relay = Relay(listener: listener, upstreamPort: try RawSocket.port(of: upstream), holds: holds)
        Thread.detachNewThread { [relay] in relay.acceptLoop() }
    }

    /// A proxy that holds nothing: it only records the requests it passes on.
    static func recording(_ upstream: String) throws -> GatedProxy {
        try GatedProxy(upstream: upstream, holding: { _ in false })
    }

    deinit {
        relay.stop()
    }

    /// Lets every held request, and every later one, through.
    func open() {
        relay.open()
    }

    /// While set, each request taken is answered by closing its connection: an upstream
    /// that cannot be reached.
    var cuts: Bool {
        get { relay.cutting.withLock { $0 } }
        set { relay.cutting.withLock { $0 = newValue } }
    }

    /// The request lines taken so far (`GET /shacache/… HTTP/1.1`).
    var requests: [String] { relay.taken.withLock { $0 } }

    /// Those of them that could change what upstream holds: any but a GET or a HEAD.
    var changes: [String] { requests.filter { !$0.hasPrefix("GET ") && !$0.hasPrefix("HEAD ") } }

    /// The line of the first request held, once one is; `nil` after `timeout` seconds.
    func firstHeld(within timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let line = requests.first(where: relay.holds) { return line }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }
}

/// What the proxy's threads share; they hold it, not the proxy, so that the proxy's
/// `deinit` runs and stops them.
private final class Relay: Sendable {
    let listener: Int32
    let upstreamPort: Int
    let holds: @Sendable (_ requestLine: String) -> Bool
    let taken = Mutex<[String]>([])
    let cutting = Mutex(false)
    private let gate = TestGate()

    /// Far above any answer of a working server on loopback: a hung one ends the relay.
    private static let patience = timeval(tv_sec: 120, tv_usec: 0)

    init(listener: Int32, upstreamPort: Int, holds: @escaping @Sendable (String) -> Bool) {
        self.listener = listener
        self.upstreamPort = upstreamPort
        self.holds = holds
    }

    func open() {
        gate.open()
    }

    /// Ends the accept loop, and lets held requests go.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        open()
    }

    func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        Self.limitWaits(on: client)
        guard let request = RawSocket.readHead(client) else { return }
        let lines = request.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard let requestLine = lines.first else { return }
        taken.withLock { $0.append(requestLine) }
        let fields = lines.dropFirst().map { $0.lowercased() }
        if fields.contains(where: { $0.hasPrefix("transfer-encoding:") }) { return }
        let length = fields.lazy.compactMap { field -> Int? in
            guard field.hasPrefix("content-length:") else { return nil }
            return Int(field.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        guard let body = RawSocket.read(length, from: client) else { return }
        if cutting.withLock({ $0 }) { return }
        if holds(requestLine) { gate.wait() }
        guard let upstream = try? RawSocket.connectLoopback(port: upstreamPort) else { return }
        defer { close(upstream) }
        Self.limitWaits(on: upstream)
        // Upstream is asked to close after answering, so that one read loop sees the whole
        // answer; the client is told the same, so that it sends nothing more here.
        let kept = lines.filter { !$0.lowercased().hasPrefix("connection:") }
        guard RawSocket.sendAll(Array((kept + ["Connection: close", "", ""]).joined(separator: "\r\n").utf8) + body, on: upstream),
            let head = RawSocket.readHead(upstream)
        else { return }
        let answerLines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty && !$0.lowercased().hasPrefix("connection:") }
        guard RawSocket.sendAll(Array((answerLines + ["Connection: close", "", ""]).joined(separator: "\r\n").utf8), on: client) else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(upstream, &buffer, buffer.count, 0)
            guard count > 0, RawSocket.sendAll(Array(buffer[..<count]), on: client) else { return }
        }
    }

    private static func limitWaits(on socket: Int32) {
        var limit = patience
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }
}
