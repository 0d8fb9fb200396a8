import Foundation
import NIOSSL
import PostgresNIO

/// `--directory postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]`, libpq's
/// URI form: `sslmode` is `disable`, `prefer` (the default), `require`, `verify-ca` or
/// `verify-full`, `sslrootcert` names the CA file, and `host=/dir` a Unix socket directory.
public struct PostgresAddress: Sendable, CustomStringConvertible {
    let configuration: PostgresClient.Configuration
    /// The URI without its password, for messages.
    public let description: String

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), ["postgresql", "postgres"].contains(components.scheme ?? "") else {
            throw ServerConfigurationError("--directory \(text): not a postgresql:// URI")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        guard let user = components.user, !user.isEmpty else {
            throw ServerConfigurationError("--directory: the URI names no user (postgresql://USER@HOST/DATABASE)")
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        let port = components.port ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: components.password, database: database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw ServerConfigurationError("--directory: the URI names no host") }
            configuration = .init(host: host, port: port, username: user, password: components.password, database: database, tls: try Self.tls(query))
        }
        configuration.options.connectTimeout = .seconds(5)
        self.configuration = configuration
        var shown = components
        if shown.password != nil { shown.password = "***" }
        description = shown.string ?? "postgresql://"
    }

    private static func tls(_ query: [String: String]) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let root = query["sslrootcert"] { tls.trustRoots = .file(root) }
        switch query["sslmode"] ?? "prefer" {
        case "disable":
            return .disable
        case "allow", "prefer":
            tls.certificateVerification = .none
            return .prefer(tls)
        case "require":
            tls.certificateVerification = .none
            return .require(tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case "verify-full":
            return .require(tls)
        case let mode:
            throw ServerConfigurationError("--directory: unknown sslmode \(mode) (disable, prefer, require, verify-ca, verify-full)")
        }
    }
}
