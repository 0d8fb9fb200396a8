import Logging
import Synchronization

/// The security settings in force, replaced whole by a reload.
///
/// Every request and every new connection reads the current value once, so none sees half
/// of an old set and half of a new one, and connections already open are not dropped.
final class LiveSecuritySettings: Sendable {
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let settings: Mutex<SecuritySettings>

    /// Loads every file; throws, before anything is served, when one does not load.
    init(configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        settings = Mutex(try SecuritySettings(configuration: configuration, logger: logger))
    }

    var current: SecuritySettings { settings.withLock { $0 } }

    /// Rereads every file. A reload that fails changes nothing and says why: a typo in a
    /// CRL must not open uploads to everyone, nor stop the server.
    func reload() {
        do {
            let fresh = try SecuritySettings(configuration: configuration, logger: logger)
            settings.withLock { $0 = fresh }
            let options = configuration.securityFileOptions
            logger.notice("SIGHUP: reread \(options.isEmpty ? "nothing (no TLS, credential or trust file is given)" : options.joined(separator: ", "))")
        } catch {
            logger.error("SIGHUP: reload failed, keeping the previous settings: \(error)")
        }
    }
}
