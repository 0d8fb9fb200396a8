import AsyncHTTPClient
import Foundation
import NetcacheClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A mirror's blob transfers from upstream, over AsyncHTTPClient (already used for S3): a
/// transfer waiting for upstream's bytes holds no thread, so any number of slow ones leave
/// the next miss unaffected.
///
/// The client is made at the first transfer, and shut down once the server stopped
/// serving: the server runs this service first, so it is the last to stop.
final class UpstreamConnections: Service, Sendable {
    private enum State {
        case idle
        case open(HTTPClient)
        case closed
    }

    /// Connections to upstream at most: each is one distinct blob in flight (clients asking
    /// for the same one share it), far more than a site asks for at once.
    static let connectionLimit = 1024

    private let configuration: HTTPClient.Configuration
    private let state = Mutex(State.idle)
    private let logger: Logger

    /// Loads the TLS files now: a wrong one stops the server before it serves.
    init(settings: UpstreamSettings, logger: Logger) throws {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try Self.tls(settings.tls)
        // The read timeout is the longest silence; slower-than-limit trickles are the
        // transfer's to detect (`UpstreamLowSpeed`).
        configuration.timeout = .init(connect: .seconds(Int64(settings.timeouts.connect)), read: .seconds(Int64(settings.timeouts.lowSpeedTime)))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.connectionLimit)
        // A dead upstream fails its transfer at once, and the back-off takes over.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts a GET of `url` (credentials in it become basic auth, as libcurl does) and
    /// returns once upstream's head arrived; the body streams after.
    func get(_ url: String) async throws -> HTTPClientResponse {
        let client = try client()
        var request = HTTPClientRequest(url: url)
        if var components = URLComponents(string: url), let user = components.user {
            let password = components.password ?? ""
            components.user = nil
            components.password = nil
            request.url = components.string ?? url
            request.setBasicAuth(username: user, password: password)
        }
        return try await client.execute(request, deadline: .distantFuture, logger: logger)
    }

    func run() async throws {
        try? await gracefulShutdown()
        let open = state.withLock { state -> HTTPClient? in
            defer { state = .closed }
            if case .open(let client) = state { return client }
            return nil
        }
        try await open?.shutdown()
    }

    private func client() throws -> HTTPClient {
        try state.withLock { state in
            switch state {
            case .open(let client):
                return client
            case .closed:
                throw StorageError("the server is stopping")
            case .idle:
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration, backgroundActivityLogger: logger)
                state = .open(client)
                return client
            }
        }
    }

    /// libcurl's meaning of the options: the CA replaces the system's, the client
    /// certificate and key are PEM files.
    private static func tls(_ settings: NetcacheClient.TLSSettings) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
        if let certificateFile = settings.certificateFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: settings.keyFile ?? certificateFile, format: .pem))
        }
        return tls
    }
}
