import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The shacache + shadir server.
public struct NetcacheServer {
    public let configuration: ServerConfiguration
    let security: LiveSecuritySettings
    let policy: AccessPolicy
    /// Held for the server's life, never read.
    let dataLock: DataDirectoryLock
    let backends: StorageBackends
    let blobMirror: BlobMirror?
    let directoryMirror: DirectoryMirror?
    let push: UpstreamPush?
    let metrics = ServerMetrics()
    let logger: Logger

    /// Checks the configuration and opens the storage; throws before anything is served.
    public init(configuration: ServerConfiguration, logger: Logger) throws {
        if (configuration.tlsCertificateFile == nil) != (configuration.tlsKeyFile == nil) {
            throw ServerConfigurationError("--tls-cert and --tls-key go together")
        }
        if configuration.clientCAFile != nil && configuration.tlsCertificateFile == nil {
            throw ServerConfigurationError("--client-ca needs TLS: give --tls-cert and --tls-key")
        }
        if !configuration.clientCRLFiles.isEmpty && configuration.clientCAFile == nil {
            throw ServerConfigurationError("--client-crl needs --client-ca")
        }
        self.configuration = configuration
        self.logger = logger
        security = try LiveSecuritySettings(configuration: configuration, logger: logger)
        policy = try AccessPolicy(configuration: configuration, settings: security)
        do {
            if DataDirectoryPresence.isAbsent(configuration.dataDirectory) {
                logger.notice("creating a new data directory at \(configuration.dataDirectory.path)")
            }
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
            dataLock = try DataDirectoryLock(dataDirectory: configuration.dataDirectory)
            let staging = try Staging(dataDirectory: configuration.dataDirectory, minimumFreeSpace: configuration.minimumFreeSpace)
            backends = try StorageBackends(
                blobs: configuration.blobBackend, entries: configuration.entryBackend, dataDirectory: configuration.dataDirectory, staging: staging, logger: logger)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError("cannot open data directory \(configuration.dataDirectory.path): \(error)")
        }
        let blobs = backends.blobs
        // Never contacted at start-up: a mirror serves what it has while upstream is down.
        if let upstream = configuration.upstream {
            let mirrored: MirroredBlobs
            do {
                mirrored = try MirroredBlobs(dataDirectory: configuration.dataDirectory, store: blobs, limit: upstream.cacheSize, logger: logger)
            } catch {
                throw StorageError("cannot open \(configuration.dataDirectory.path)/mirror.sqlite: \(error)")
            }
            do {
                blobMirror = try BlobMirror(store: blobs, settings: upstream, mirrored: mirrored, maxSize: configuration.maxUploadSize, metrics: metrics, logger: logger)
            } catch {
                throw ServerConfigurationError("cannot load the upstream TLS files: \(error)")
            }
            do {
                directoryMirror = try DirectoryMirror(settings: upstream, dataDirectory: configuration.dataDirectory, security: security, metrics: metrics, logger: logger)
            } catch {
                throw StorageError("cannot open \(configuration.dataDirectory.path)/mirror-listings.sqlite: \(error)")
            }
            do {
                push = try upstream.push ? UpstreamPush(settings: upstream, store: blobs, dataDirectory: configuration.dataDirectory, metrics: metrics, logger: logger) : nil
            } catch {
                throw StorageError("cannot open \(configuration.dataDirectory.path)/push.sqlite: \(error)")
            }
        } else {
            blobMirror = nil
            directoryMirror = nil
            push = nil
        }
    }

    /// The upload policy in force (and upstream, for a mirror), for the start-up message.
    public var policySummary: String {
        guard let upstream = configuration.upstream else { return policy.summary }
        return policy.summary + "; mirror of \(upstream.cacheURL) and \(upstream.directoryURL)"
    }

    /// Serves until SIGINT or SIGTERM, rereading the security settings on SIGHUP.
    /// `onListening` receives the bound URL (with the port chosen when asked for port 0)
    /// before the first request is accepted.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let router = Router(context: NetcacheRequestContext.self)
        router.add(middleware: ConnectionCloseMiddleware())
        router.add(middleware: RefusedBodyDrainMiddleware())
        let basePath = configuration.basePath
        router.add(middleware: AccessLogMiddleware(logger: logger, format: configuration.logFormat, metrics: metrics, basePath: basePath))
        router.add(middleware: AccessControlMiddleware(policy: policy, openPaths: [basePath + "/health", basePath + "/metrics"]))
        // Under --base-path, every route is in its group; nothing answers outside it.
        let routes: any RouterMethods<NetcacheRequestContext> = basePath.isEmpty ? router : router.group(RouterPath(basePath))
        ShacacheController(store: blobMirror?.uploads ?? backends.blobs, marks: backends.entries, maxUploadSize: configuration.maxUploadSize, mirror: blobMirror, push: push).register(on: routes)
        ShadirController(store: backends.entries, security: security, mirror: directoryMirror, push: push, prefix: basePath + "/shadir/").register(on: routes)
        HealthController(health: BackendHealth(backends: backends, metrics: metrics), policy: policy).register(on: routes)
        MetricsController(metrics: metrics).register(on: routes)
        RouteGuideController().register(on: routes)

        let scheme = configuration.scheme
        let host = configuration.host
        let notify = SystemdNotify()
        let socket = configuration.unixSocketPath
        let address: BindAddress
        let listening = NIOLockedValueBox(false)
        if let socket {
            try Self.removeStaleSocket(socket)
            address = .unixDomainSocket(path: socket)
        } else {
            address = .hostname(host, port: configuration.port)
        }
        let app = Application(
            router: router,
            server: serverBuilder(),
            configuration: .init(address: address, serverName: nil),
            onServerRunning: { channel in
                let url: String
                if let socket {
                    url = "unix:\(socket)"
                } else {
                    let shownHost = host.contains(":") ? "[\(host)]" : host
                    url = "\(scheme)://\(shownHost):\(channel.localAddress?.port ?? 0)\(basePath)"
                }
                listening.withLockedValue { $0 = true }
                onListening(url)
                notify.send("READY=1\nSTATUS=listening on \(url)")
            },
            logger: logger)
        let reload = ReloadOnHangup(hangups: await UnixSignalsSequence(trapping: .sighup), settings: security)
        let census = StoreCensus(backends: backends, metrics: metrics, interval: configuration.censusInterval, logger: logger)
        // The mirror's connections to upstream stop last, once every client is answered.
        let services: [any Service] = (blobMirror.map { [$0.connections] } ?? []) + [app, reload, StoppingNotice(notify: notify), census] + (push.map { [$0] } ?? []) + backends.services
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Transfers in flight finish within the grace; past it they are cut.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await backends.run { try await group.run() }
        } catch let error as IOError where !listening.withLockedValue({ $0 }) {
            // SwiftNIO's text names its own functions: say what the user gave instead.
            let given = socket.map { "unix:\($0)" } ?? (host.contains(":") ? "[\(host)]" : host) + ":\(configuration.port)"
            throw ServerConfigurationError("cannot listen on \(given): \(String(cString: strerror(error.errnoCode)))")
        }
    }

    /// A socket file left by a server that did not stop cleanly would fail the bind; only a
    /// socket nobody listens on is removed, never a file of another kind.
    private static func removeStaleSocket(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else {
            throw ServerConfigurationError("--listen unix:\(path): the path exists and is not a socket")
        }
        if UnixSocketProbe.isListening(path) { throw ServerConfigurationError("--listen unix:\(path): another server listens on it") }
        guard unlink(path) == 0 else { throw ServerConfigurationError("--listen unix:\(path): cannot remove the old socket: \(String(cString: strerror(errno)))") }
    }

    private func serverBuilder() -> HTTPServerBuilder {
        guard configuration.tlsCertificateFile != nil else { return .http1() }
        let security = security
        return HTTPServerBuilder { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder)) {
                guard let context = security.current.tls else { throw ServerConfigurationError("no TLS context loaded") }
                return context
            }
        }
    }
}
