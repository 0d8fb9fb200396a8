import Foundation
import Synchronization

/// A loopback TCP proxy in front of a server that answers slowly on purpose: each response
/// goes on at `bytesPerTick` bytes every `interval`, fast enough for no low-speed timeout
/// to give up on it, slow enough that a blob of a few MiB takes minutes. A small answer
/// fits in its first tick and arrives at once.
final class TricklingProxy: @unchecked Sendable {
    let url: String
    private let listener: Int32
    private let upstreamPort: Int
    private let bytesPerTick: Int
    private let interval: TimeInterval
    private let opened = Mutex(0)

    init(upstream: String, bytesPerTick: Int = 4096, interval: TimeInterval = 0.5) throws {
        upstreamPort = try RawSocket.port(of: upstream)
        self.bytesPerTick = bytesPerTick
        self.interval = interval
        (listener, url) = try RawSocket.listenOnLoopback()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Connections taken so far.
    var connections: Int { opened.withLock { $0 } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            opened.withLock { $0 += 1 }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let request = RawSocket.readHead(client), let upstream = try? RawSocket.connectLoopback(port: upstreamPort) else { return }
        defer { close(upstream) }
        // Ask upstream to close after answering, so that one read loop sees the whole answer.
        let forwarded = request.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n")
        guard RawSocket.sendAll(Array(forwarded.utf8), on: upstream) else { return }
        var buffer = [UInt8](repeating: 0, count: bytesPerTick)
        while true {
            var filled = 0
            while filled < bytesPerTick {
                let count = buffer[filled...].withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                filled += count
            }
            guard filled > 0, RawSocket.sendAll(Array(buffer[..<filled]), on: client), filled == bytesPerTick else { return }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
