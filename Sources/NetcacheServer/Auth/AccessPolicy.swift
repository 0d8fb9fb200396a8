import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOSSL

/// Who may upload, and who may download.
///
/// Uploads need credentials: a TLS client certificate signed by the client CA, or a user
/// from the basic auth file. The one exception is a server that listens on loopback only
/// with no credentials configured (a developer's local cache, reachable by the unmodified
/// Python client over plain HTTP), or one told `--allow-anonymous-uploads`.
public struct AccessPolicy: Sendable {
    public enum AnonymousUploads: Sendable {
        /// Credentials are required.
        case refused
        /// Anyone on this host, except through a reverse proxy.
        case loopbackOnly
        /// Anyone, as the operator asked.
        case allowed
    }

    let anonymousUploads: AnonymousUploads
    let basicAuth: HtpasswdFile?
    let clientCA: ClientCertificateAuthority?
    let privateDownloads: Bool

    public init(
        basicAuth: HtpasswdFile?, clientCA: ClientCertificateAuthority?, listensOnLoopbackOnly: Bool,
        allowAnonymousUploads: Bool, privateDownloads: Bool
    ) throws {
        self.basicAuth = basicAuth
        self.clientCA = clientCA
        self.privateDownloads = privateDownloads
        let hasCredentials = basicAuth != nil || clientCA != nil
        if allowAnonymousUploads {
            anonymousUploads = .allowed
        } else if hasCredentials {
            anonymousUploads = .refused
        } else if listensOnLoopbackOnly {
            anonymousUploads = .loopbackOnly
        } else {
            throw ServerConfigurationError(
                "refusing to serve uploads to the network without credentials: give --basic-auth-file or --client-ca, or --allow-anonymous-uploads"
            )
        }
        if privateDownloads && !hasCredentials {
            throw ServerConfigurationError("--private-downloads needs --basic-auth-file or --client-ca")
        }
    }

    /// The policy in force, said once at start-up.
    public var summary: String {
        var ways: [String] = []
        if clientCA != nil { ways.append("a TLS client certificate from the client CA") }
        if basicAuth != nil { ways.append("basic credentials from the auth file") }
        let uploads: String
        switch anonymousUploads {
        case .allowed: uploads = "uploads: anonymous uploads allowed (--allow-anonymous-uploads)"
        case .loopbackOnly: uploads = "uploads: anonymous, from this host only (loopback, no credentials configured; proxied requests refused)"
        case .refused: uploads = "uploads: need " + ways.joined(separator: " or ")
        }
        let downloads = privateDownloads ? "downloads: need the same credentials" : "downloads: public"
        return uploads + "; " + downloads
    }

    /// Checks the request; throws 401 when credentials are missing, 403 when they are wrong.
    func authorise(_ request: Request, context: NetcacheRequestContext, upload: Bool) async throws {
        if !upload && !privateDownloads { return }
        switch anonymousUploads {
        case .allowed where upload:
            return
        case .loopbackOnly where upload:
            if request.headers[.forwarded] != nil || request.headers[.xForwardedFor] != nil {
                throw HTTPError(.forbidden, message: "anonymous uploads are not accepted through a proxy")
            }
            return
        default:
            break
        }
        if let clientCA, let certificate = try? await context.channel.nioSSL_peerCertificate().get() {
            if let der = try? certificate.toDERBytes(), clientCA.verifies(certificateDER: der) { return }
            if basicAuth == nil { throw HTTPError(.forbidden, message: "client certificate not signed by the client CA") }
        }
        if let basicAuth, let credentials = BasicCredentials(request.headers[.authorization]) {
            if await basicAuth.verify(user: credentials.user, password: credentials.password) { return }
            throw HTTPError(.forbidden, message: "wrong credentials")
        }
        var headers = HTTPFields()
        if basicAuth != nil { headers[.wwwAuthenticate] = "Basic realm=\"netcache\"" }
        throw HTTPError(.unauthorized, headers: headers, message: "credentials required")
    }
}

extension HTTPField.Name {
    static let forwarded = HTTPField.Name("Forwarded")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// `Authorization: Basic base64(user:password)`.
struct BasicCredentials {
    let user: String
    let password: String

    init?(_ header: String?) {
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        user = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }
}

/// A server setting that cannot work, said before anything is served.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
