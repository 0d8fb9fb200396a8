import Foundation

/// A loopback port that takes connections and never answers: the kernel completes them
/// into the listen backlog, and nothing ever reads or writes. A hung cache.
final class SilentListener {
    let url: String
    private let socket: Int32

    init() throws {
        (socket, url) = try Self.listen()
    }

    deinit {
        close(socket)
    }

    /// A URL on a port that nothing listens on: a cache that is down.
    static func closedPortURL() throws -> String {
        let (socket, url) = try listen()
        close(socket)
        return url
    }

    private static func listen() throws -> (Int32, String) {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && Foundation.listen(socket, 64) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else {
            close(socket)
            throw TestFailure("cannot listen on loopback")
        }
        return (socket, "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")
    }
}
