import Foundation
@testable import NetcacheClient

/// One plain HTTP exchange through libcurl, with everything of the answer kept.
struct TestResponse {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

enum TestHTTP {
    /// `afterChunk` is told how many body bytes have come so far; blocking in it stalls the
    /// transfer with the connection open.
    static func request(
        _ method: String, _ url: String, headers: [String] = [], body: [UInt8]? = nil, tls: TLSSettings = TLSSettings(),
        afterChunk: (_ receivedSoFar: Int) -> Void = { _ in }
    ) throws -> TestResponse {
        var received: [UInt8] = []
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body.map { .bytes($0) }, tls: tls)
        let head = try CurlEasy().perform(request) { _, chunk in
            received.append(contentsOf: chunk)
            afterChunk(received.count)
            return true
        }
        return TestResponse(status: head.status, headers: head.headers, body: received)
    }
}

/// A raw TCP exchange: for requests libcurl would not send (cut uploads, odd framing).
enum RawSocket {
    /// Sends `bytes`, then either closes at once (`readAnswer: false`) or reads until the
    /// server closes.
    static func exchange(url: String, bytes: [UInt8], readAnswer: Bool) throws -> String {
        let socket = try connectLoopback(port: try port(of: url))
        defer { close(socket) }
        guard sendAll(bytes, on: socket) else { throw TestFailure("send failed") }
        guard readAnswer else { return "" }
        return String(decoding: readToEnd(socket), as: UTF8.self)
    }

    /// A GET whose answer is never read: the server's writes stall once the socket buffers
    /// are full. The caller closes the socket.
    static func openStalledDownload(url: String) throws -> Int32 {
        let socket = try connectLoopback(port: try port(of: url))
        let path = URLComponents(string: url)?.path ?? "/"
        guard sendAll(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), on: socket) else {
            close(socket)
            throw TestFailure("send failed")
        }
        return socket
    }

    /// Sends every byte; `false` once the peer no longer takes them.
    static func sendAll(_ bytes: [UInt8], on socket: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads until the peer closes.
    static func readToEnd(_ socket: Int32) -> [UInt8] {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer.append(contentsOf: buffer[..<count])
        }
        return answer
    }

    /// Reads the head of a request or an answer: up to the blank line, which it includes.
    static func readHead(_ socket: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while recv(socket, &byte, 1, 0) == 1 {
            bytes.append(byte)
            if bytes.suffix(4) == [13, 10, 13, 10] { return String(decoding: bytes, as: UTF8.self) }
        }
        return nil
    }

    /// Reads exactly `count` bytes; `nil` if the peer closes first.
    static func read(_ count: Int, from socket: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let received = bytes[filled...].withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { return nil }
            filled += received
        }
        return bytes
    }

    /// A TCP connection to 127.0.0.1:port; the caller closes it.
    static func connectLoopback(port: Int) throws -> Int32 {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw TestFailure("connect to 127.0.0.1:\(port) failed")
        }
        return socket
    }

    /// A socket listening on a free loopback port, and its URL.
    static func listenOnLoopback() throws -> (descriptor: Int32, url: String) {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && Foundation.listen(socket, 128) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else {
            close(socket)
            throw TestFailure("cannot listen on loopback")
        }
        return (socket, "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")
    }

    static func port(of url: String) throws -> Int {
        guard let port = URLComponents(string: url)?.port else { throw TestFailure("no port in \(url)") }
        return port
    }
}
