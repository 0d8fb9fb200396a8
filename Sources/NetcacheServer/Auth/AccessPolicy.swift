import HTTPTypes
import Hummingbird

/// Who may upload, and who may download.
///
/// Uploads need credentials: a TLS client certificate signed by the client CA, or a user
/// from the basic auth file. The one exception is a server that listens on loopback only
/// with no credentials configured (a developer's local cache, reachable by the unmodified
/// Python client over plain HTTP), or one told `--allow-anonymous-uploads`.
struct AccessPolicy: Sendable {
    enum AnonymousUploads: Sendable {
        /// Credentials are required.
        case refused
        /// Anyone on this host, except through a reverse proxy.
        case loopbackOnly
        /// Anyone, as the operator asked.
        case allowed
    }

    let anonymousUploads: AnonymousUploads
    /// The client CA and the basic auth users in force; a reload changes what they hold,
    /// never whether they are configured.
    let settings: LiveSecuritySettings
    let privateDownloads: Bool
    private let usesClientCertificates: Bool
    private let usesBasicAuth: Bool

    init(configuration: ServerConfiguration, settings: LiveSecuritySettings) throws {
        self.settings = settings
        privateDownloads = configuration.privateDownloads
        usesClientCertificates = configuration.clientCAFile != nil
        usesBasicAuth = configuration.basicAuthFile != nil
        let hasCredentials = usesClientCertificates || usesBasicAuth
        if configuration.allowAnonymousUploads {
            anonymousUploads = .allowed
        } else if hasCredentials {
            anonymousUploads = .refused
        } else if configuration.listensOnLoopbackOnly {
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
    var summary: String {
        var ways: [String] = []
        if usesClientCertificates { ways.append("a TLS client certificate from the client CA") }
        if usesBasicAuth { ways.append("basic credentials from the auth file") }
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
            // The address this connection reached, whatever the name resolved to at start.
            guard let local = context.channel.localAddress, LoopbackAddress.contains(local) else {
                throw HTTPError(.forbidden, message: "anonymous uploads are accepted on a loopback address only")
            }
            return
        default:
            break
        }
        let current = settings.current
        if let clientCA = current.clientCA {
            let chain = await context.channel.presentedCertificateChain()
            if !chain.isEmpty {
                switch clientCA.verify(chain: chain) {
                case .trusted(let subject):
                    context.uploader.set("certificate " + subject)
                    return
                case .refused(let reason) where current.basicAuth == nil:
                    throw HTTPError(.forbidden, message: "client certificate refused: \(reason)")
                case .refused:
                    break
                }
            }
        }
        if let basicAuth = current.basicAuth, let credentials = BasicCredentials(request.headers[.authorization]) {
            if await basicAuth.verify(user: credentials.user, password: credentials.password) {
                context.uploader.set("user " + credentials.user)
                return
            }
            throw HTTPError(.forbidden, message: "wrong credentials")
        }
        var headers = HTTPFields()
        if usesBasicAuth { headers[.wwwAuthenticate] = "Basic realm=\"netcache\"" }
        throw HTTPError(.unauthorized, headers: headers, message: "credentials required")
    }
}
