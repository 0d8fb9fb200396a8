import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization

/// Requests that reach the server together, by construction rather than by luck: each goes
/// on a connection of its own with every byte but its last, so that the server holds them
/// all and can answer none; `release()` checks that none was answered and sends the last
/// bytes one after the other, within microseconds; `answers()` reads every answer, each on
/// a thread of its own.
///
/// A thread pool (`concurrentPerform` runs one task per core, two here) or a loop of
/// requests only makes overlap likely. This makes every request whole within microseconds
/// of the others; a request the server answers faster than that (a small GET) may still
/// be answered before the last is whole, so a test that needs them handled at once checks
/// it on the server's side too (a held upstream, a metric).
final class SimultaneousRequests {
    struct Request {
        let method: String
        let url: String
        var body: [UInt8] = []
    }

    private var sockets: [Int32] = []
    private var lastBytes: [UInt8] = []
    /// Each request's method, which tells whether its answer has a body.
    private var methods: [String] = []

    init(_ requests: [Request]) throws {
        do {
            for request in requests {
                let bytes = try Self.encode(request)
                let socket = try RawSocket.connectLoopback(port: try RawSocket.port(of: request.url))
                sockets.append(socket)
                methods.append(request.method)
                // Far above any answer of a working server on loopback: a hung one fails.
                var patience = timeval(tv_sec: 120, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
                guard RawSocket.sendAll(Array(bytes.dropLast()), on: socket) else { throw TestFailure("send to \(request.url) failed") }
                lastBytes.append(bytes[bytes.count - 1])
            }
        } catch {
            sockets.forEach { close($0) }
            throw error
        }
    }

    deinit {
        sockets.forEach { close($0) }
    }

    /// Completes every request. Throws if the server answered, or closed, a connection
    /// before its request was whole.
    func release() throws {
        for socket in sockets {
            var byte: UInt8 = 0
            let peeked = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            guard peeked < 0, errno == EAGAIN || errno == EWOULDBLOCK else {
                throw TestFailure("a connection was answered or closed before its request was whole")
            }
        }
        for (socket, byte) in zip(sockets, lastBytes) {
            guard RawSocket.sendAll([byte], on: socket) else { throw TestFailure("send failed") }
        }
    }

    /// The answers, in the requests' order, once the server has closed every connection.
    func answers() throws -> [TestResponse] {
        let answers = Mutex<[Int: [UInt8]]>([:])
        let done = DispatchGroup()
        for (index, socket) in sockets.enumerated() {
            done.enter()
            Thread.detachNewThread {
                let bytes = RawSocket.readToEnd(socket)
                answers.withLock { $0[index] = bytes }
                done.leave()
            }
        }
        done.wait()
        return try sockets.indices.map { index in try Self.parse(answers.withLock { $0[index] ?? [] }, method: methods[index]) }
    }

    private static func encode(_ request: Request) throws -> [UInt8] {
        guard let components = URLComponents(string: request.url) else { throw TestFailure("not a URL: \(request.url)") }
        let path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath) + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var head = "\(request.method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) { head += "Content-Length: \(request.body.count)\r\n" }
        return Array((head + "\r\n").utf8) + request.body
    }

    /// An answer read to the connection's end, decoded by NIO's HTTP/1 client decoder, which
    /// is told the request's method so that a HEAD's answer has no body: its status,
    /// headers and whole body. An answer cut short, or followed by anything, throws.
    private static func parse(_ bytes: [UInt8], method: String) throws -> TestResponse {
        let quoted = String(decoding: bytes.prefix(200), as: UTF8.self)
        let channel = EmbeddedChannel()
        var parts: [HTTPClientResponsePart] = []
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: "/")))
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            // The end of the connection ends an answer that has neither length nor chunks.
            try channel.close().wait()
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { parts.append(part) }
        } catch {
            throw TestFailure("an answer that does not parse (\(error)): \(quoted)")
        }
        guard case .head(let head) = parts.first, case .end = parts.last, parts.dropFirst().dropLast().allSatisfy({ if case .body = $0 { true } else { false } })
        else { throw TestFailure("not one whole answer: \(quoted)") }
        var body: [UInt8] = []
        for case .body(let buffer) in parts { body += Array(buffer.readableBytesView) }
        let headers = Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { _, last in last }
        return TestResponse(status: Int(head.status.code), headers: headers, body: body)
    }
}
