import Foundation
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
    /// Whether each answer has a body: not those of HEAD.
    private var bodies: [Bool] = []

    init(_ requests: [Request]) throws {
        do {
            for request in requests {
                let bytes = try Self.encode(request)
                let socket = try RawSocket.connectLoopback(port: try RawSocket.port(of: request.url))
                sockets.append(socket)
                bodies.append(request.method != "HEAD")
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
        return try sockets.indices.map { index in try Self.parse(answers.withLock { $0[index] ?? [] }, hasBody: bodies[index]) }
    }

    private static func encode(_ request: Request) throws -> [UInt8] {
        guard let components = URLComponents(string: request.url) else { throw TestFailure("not a URL: \(request.url)") }
        let path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath) + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var head = "\(request.method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) { head += "Content-Length: \(request.body.count)\r\n" }
        return Array((head + "\r\n").utf8) + request.body
    }

    /// An answer read to the connection's end: its status, headers and body (whole, by
    /// `Content-Length` or chunks; none for HEAD, 1xx, 204 and 304); a body cut short throws.
    private static func parse(_ bytes: [UInt8], hasBody: Bool) throws -> TestResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw TestFailure("an answer with no whole head: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { throw TestFailure("no status line: \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Array(bytes[(end + separator.count)...])
        if !hasBody || (100..<200).contains(status) || [204, 304].contains(status) {
            guard rest.isEmpty else { throw TestFailure("\(rest.count) bytes after an answer that has no body") }
            return TestResponse(status: status, headers: headers, body: [])
        }
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard rest.count == length else { throw TestFailure("\(rest.count) body bytes where Content-Length said \(length)") }
            return TestResponse(status: status, headers: headers, body: rest)
        }
        guard headers["transfer-encoding"]?.lowercased() == "chunked" else { return TestResponse(status: status, headers: headers, body: rest) }
        return TestResponse(status: status, headers: headers, body: try dechunk(rest))
    }

    private static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var body: [UInt8] = []
        var offset = 0
        while true {
            guard let lineEnd = bytes[offset...].indices.first(where: { bytes[$0...].starts(with: [13, 10]) }),
                let sizeField = String(decoding: bytes[offset..<lineEnd], as: UTF8.self).split(separator: ";").first,
                let size = Int(sizeField, radix: 16), (0...bytes.count).contains(size)
            else { throw TestFailure("a chunked body cut short") }
            let start = lineEnd + 2
            if size == 0 { return body }
            guard start + size + 2 <= bytes.count, bytes[(start + size)...].starts(with: [13, 10]) else { throw TestFailure("a chunked body cut short") }
            body += bytes[start..<(start + size)]
            offset = start + size + 2
        }
    }
}
