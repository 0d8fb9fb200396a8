import ServiceLifecycle
import UnixSignals

/// Rereads the security settings on every SIGHUP, as daemons do.
struct ReloadOnHangup: Service {
    /// Made before the server listens, so that a SIGHUP sent as soon as it does is not
    /// met by the default action, which ends the process.
    let hangups: UnixSignalsSequence
    let settings: LiveSecuritySettings

    func run() async {
        for await _ in hangups.cancelOnGracefulShutdown() {
            settings.reload()
        }
    }
}
