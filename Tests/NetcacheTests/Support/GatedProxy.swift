import Foundation
import Synchronization

/// A loopback TCP proxy in front of a server that holds every request (GET or HEAD) it
/// takes until `open()`: a transfer from upstream is then under way for as long as a test
/// needs. It counts the requests it took, by their request line, as they arrive.
final class GatedProxy: @unchecked Sendable {
    let url: String
    private let listener: Int32
    private let upstreamPort: Int
    private let gate = DispatchGroup()
    private let taken = Mutex<[String]>([])

    init(upstream: String) throws {
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

    /// The request lines taken so far (`GET /shacache/… HTTP/1.1`).
    var requests: [String] { taken.withLock { $0 } }

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
        taken.withLock { $0.append(request.components(separatedBy: "\r\n")[0]) }
        gate.wait()
        guard let upstream = try? RawSocket.connectLoopback(port: upstreamPort) else { return }
        defer { close(upstream) }
        // Ask upstream to close after answering, so that one read loop sees the whole answer.
        let forwarded = request.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n")
        guard RawSocket.sendAll(Array(forwarded.utf8), on: upstream) else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(upstream, &buffer, buffer.count, 0)
            guard count > 0, RawSocket.sendAll(Array(buffer[..<count]), on: client) else { return }
        }
    }
}
