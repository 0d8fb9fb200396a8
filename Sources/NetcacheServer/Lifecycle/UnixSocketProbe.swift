import Foundation

/// Whether something accepts connections on a Unix socket path.
enum UnixSocketProbe {
    static func isListening(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard var address = UnixSocketAddress(path) else { return false }
        return address.withSocketAddress { connect(descriptor, $0, $1) } == 0
    }
}
