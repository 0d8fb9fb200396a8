import ServiceLifecycle

/// Tells systemd the server is stopping as soon as a graceful shutdown begins, while
/// transfers in flight drain.
struct StoppingNotice: Service {
    let notify: SystemdNotify

    func run() async throws {
        try? await gracefulShutdown()
        notify.send("STOPPING=1")
    }
}
