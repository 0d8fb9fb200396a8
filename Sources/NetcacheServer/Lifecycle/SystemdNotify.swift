import Foundation

/// systemd's readiness protocol (`sd_notify(3)`) without libsystemd: one datagram to the
/// socket `NOTIFY_SOCKET` names, which a `Type=notify` unit sets. Without it, nothing.
struct SystemdNotify: Sendable {
    let socketPath: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `state` (`READY=1`, `STOPPING=1`, ...); whether it went. As with sd_notify, a
    /// supervisor that does not listen is no error of the server's.
    @discardableResult
    func send(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard var address = UnixSocketAddress(socketPath) else { return false }
        let message = Array(state.utf8)
        return address.withSocketAddress { sendto(descriptor, message, message.count, 0, $0, $1) } == message.count
    }
}
