import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import NetcacheClient

/// The shacache + shadir server.
public struct NetcacheServer {
    public let configuration: ServerConfiguration
    let policy: AccessPolicy
    let blobs: BlobStore
    let entries: EntryStore
    let trust: CertificateList?
    let logger: Logger

    /// Checks the configuration and opens the storage; throws before anything is served.
    public init(configuration: ServerConfiguration, logger: Logger) throws {
        if (configuration.tlsCertificateFile == nil) != (configuration.tlsKeyFile == nil) {
            throw ServerConfigurationError("--tls-cert and --tls-key go together")
        }
        if configuration.clientCAFile != nil && configuration.tlsCertificateFile == nil {
            throw ServerConfigurationError("--client-ca needs TLS: give --tls-cert and --tls-key")
        }
        self.configuration = configuration
        self.logger = logger
        trust = try configuration.trustedCertificatesFile.map { try Self.loadTrust($0, logger: logger) }
        policy = try AccessPolicy(
            basicAuth: try configuration.basicAuthFile.map(HtpasswdFile.init(path:)),
            clientCA: try configuration.clientCAFile.map(ClientCertificateAuthority.init(caFile:)),
            listensOnLoopbackOnly: configuration.listensOnLoopbackOnly,
            allowAnonymousUploads: configuration.allowAnonymousUploads,
            privateDownloads: configuration.privateDownloads)
        do {
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
            blobs = try BlobStore(dataDirectory: configuration.dataDirectory, minimumFreeSpace: configuration.minimumFreeSpace)
            entries = try EntryStore(dataDirectory: configuration.dataDirectory)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError("cannot open data directory \(configuration.dataDirectory.path): \(error)")
        }
    }

    /// `--trusted-certificates`: at least one certificate; what does not parse is said.
    private static func loadTrust(_ path: String, logger: Logger) throws -> CertificateList {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerConfigurationError("cannot read --trusted-certificates \(path): \(error.localizedDescription)")
        }
        let trust = CertificateList(pem: text)
        guard !trust.isEmpty else {
            throw ServerConfigurationError("--trusted-certificates \(path): no certificate in it" + (trust.skipped.first.map { " (\($0))" } ?? ""))
        }
        for skipped in trust.skipped { logger.warning("--trusted-certificates \(path): \(skipped)") }
        return trust
    }

    /// The upload policy in force, for the start-up message.
    public var policySummary: String { policy.summary }

    /// Serves until SIGINT or SIGTERM. `onListening` receives the bound URL (with the port
    /// chosen when asked for port 0) before the first request is accepted.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let router = Router(context: NetcacheRequestContext.self)
        router.add(middleware: ConnectionCloseMiddleware())
        router.add(middleware: AccessLogMiddleware(logger: logger))
        router.add(middleware: AccessControlMiddleware(policy: policy))
        ShacacheController(store: blobs, maxUploadSize: configuration.maxUploadSize).register(on: router)
        ShadirController(store: entries, trust: trust).register(on: router)

        let scheme = configuration.scheme
        let host = configuration.host
        let app = Application(
            router: router,
            server: try serverBuilder(),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shownHost = host.contains(":") ? "[\(host)]" : host
                onListening("\(scheme)://\(shownHost):\(port)")
            },
            logger: logger)
        try await app.runService()
    }

    private func serverBuilder() throws -> HTTPServerBuilder {
        guard let certificateFile = configuration.tlsCertificateFile, let keyFile = configuration.tlsKeyFile else {
            return .http1()
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
        guard configuration.clientCAFile != nil else {
            return try .tls(.http1(), tlsConfiguration: tls)
        }
        // Ask for a client certificate without requiring one, and accept any: the access
        // policy checks it against the client CA per request, so that refusals are clean
        // 403s and anonymous downloads keep working.
        tls.certificateVerification = .optionalVerification
        return try .tls(
            .http1(),
            configuration: .init(tlsConfiguration: tls, customVerificationCallback: { _, promise in
                promise.succeed(.certificateVerified)
            }))
    }
}
