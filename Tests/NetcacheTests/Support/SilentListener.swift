import Foundation

/// A loopback port that takes connections and never answers: the kernel completes them
/// into the listen backlog, and nothing ever reads or writes. A hung cache.
final class SilentListener {
    let url: String
    private let socket: Int32

    init() throws {
        (socket, url) = try RawSocket.listenOnLoopback()
    }

    deinit {
        close(socket)
    }

    /// A URL on a port that nothing listens on: a cache that is down.
    static func closedPortURL() throws -> String {
        let (socket, url) = try RawSocket.listenOnLoopback()
        close(socket)
        return url
    }
}
