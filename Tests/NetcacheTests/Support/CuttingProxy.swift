import Foundation
import Synchronization

/// A loopback TCP proxy in front of a server that misbehaves on purpose: it cuts the first
/// download after some bytes, stalls downloads halfway, or refuses HEAD like servers
/// without it.
final class CuttingProxy: @unchecked Sendable {
    enum Behaviour {
        /// Forward everything, but close the first connection after this many response bytes.
        case cutFirstResponse(after: Int)
        /// Close every connection after this many response bytes: a download that never ends.
        case cutEveryResponse(after: Int)
        /// Answer HEAD with 405; forward everything else.
        case refuseHEAD
        /// Forward everything, but stop after this many response bytes until the gate opens.
        case holdEveryResponse(after: Int, until: TestGate)
    }

    let url: String
    private let listener: Int32
    private let upstreamPort: Int
    private let behaviour: Behaviour
    private let connections = Mutex(0)
    let heads = Mutex(0)

    init(upstream: String, behaviour: Behaviour) throws {
        upstreamPort = try RawSocket.port(of: upstream)
        self.behaviour = behaviour
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("proxy cannot listen") }
        self.listener = listener
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let number = connections.withLock { count in
                count += 1
                return count
            }
            Thread.detachNewThread { [self] in serve(client, number: number) }
        }
    }

    private func serve(_ client: Int32, number: Int) {
        defer { close(client) }
        guard let request = RawSocket.readHead(client) else { return }
        if case .refuseHEAD = behaviour, request.hasPrefix("HEAD ") {
            heads.withLock { $0 += 1 }
            let answer = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = answer.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            return
        }
        guard let upstream = try? RawSocket.connectLoopback(port: upstreamPort) else { return }
        defer { close(upstream) }
        // Ask upstream to close after answering, so that one read loop sees the whole answer.
        let forwarded = request.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n")
        _ = forwarded.withCString { send(upstream, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var limit = Int.max
        if case .cutFirstResponse(let after) = behaviour, number == 1 { limit = after }
        if case .cutEveryResponse(let after) = behaviour { limit = after }
        var pause: (at: Int, gate: TestGate)?
        if case .holdEveryResponse(let after, let gate) = behaviour { pause = (after, gate) }
        var forwardedBytes = 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        while forwardedBytes < limit {
            let count = recv(upstream, &buffer, min(buffer.count, limit - forwardedBytes, (pause?.at ?? .max) - forwardedBytes), 0)
            if count <= 0 { break }
            _ = send(client, buffer, count, Int32(MSG_NOSIGNAL))
            forwardedBytes += count
            if let stop = pause, forwardedBytes == stop.at {
                stop.gate.wait()
                pause = nil
            }
        }
    }
}
