import Foundation

/// Everything `netcache serve` needs to know; defaults make a developer's local cache.
public struct ServerConfiguration: Sendable {
    public var dataDirectory: URL
    public var host: String
    public var port: Int
    public var maxUploadSize: Int
    /// Free space uploads must leave on the data directory's file system; `nil`: 1 GiB or
    /// 5 % of it, whichever is smaller.
    public var minimumFreeSpace: Int?
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var clientCAFile: String?
    /// PEM CRLs of the client CA (and of CAs above it), several to a file allowed.
    public var clientCRLFiles: [String]
    public var basicAuthFile: String?
    /// PEM certificates: when given, shadir PUTs must be signed by one of them.
    public var trustedCertificatesFile: String?
    public var allowAnonymousUploads: Bool
    public var privateDownloads: Bool
    /// Set for a mirror of another server.
    public var upstream: UpstreamSettings?
    /// Blobs in the data directory, or elsewhere (`--store`).
    public var blobBackend: BlobBackend
    /// Entries in the data directory, or elsewhere (`--directory`).
    public var entryBackend: EntryBackend
    /// How the access log is written.
    public var logFormat: LogFormat
    /// How long SIGTERM waits for transfers in flight before it cuts them.
    public var shutdownGrace: Duration
    /// `--base-path`: served under this prefix (`/cache`), or at the root when empty.
    public var basePath: String
    /// `--listen unix:PATH`: a Unix socket instead of `host` and `port`.
    public var unixSocketPath: String?
    /// How often `/metrics`' store counts are taken again.
    public var censusInterval: Duration

    public init(
        dataDirectory: URL = URL(fileURLWithPath: "netcache-data"),
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxUploadSize: Int = 16 << 30,
        minimumFreeSpace: Int? = nil,
        tlsCertificateFile: String? = nil,
        tlsKeyFile: String? = nil,
        clientCAFile: String? = nil,
        clientCRLFiles: [String] = [],
        basicAuthFile: String? = nil,
        trustedCertificatesFile: String? = nil,
        allowAnonymousUploads: Bool = false,
        privateDownloads: Bool = false,
        upstream: UpstreamSettings? = nil,
        blobBackend: BlobBackend = .dataDirectory,
        entryBackend: EntryBackend = .dataDirectory,
        logFormat: LogFormat = .text,
        shutdownGrace: Duration = .seconds(30),
        basePath: String = "",
        unixSocketPath: String? = nil,
        censusInterval: Duration = .seconds(300)
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maxUploadSize = maxUploadSize
        self.minimumFreeSpace = minimumFreeSpace
        self.tlsCertificateFile = tlsCertificateFile
        self.tlsKeyFile = tlsKeyFile
        self.clientCAFile = clientCAFile
        self.clientCRLFiles = clientCRLFiles
        self.basicAuthFile = basicAuthFile
        self.trustedCertificatesFile = trustedCertificatesFile
        self.allowAnonymousUploads = allowAnonymousUploads
        self.privateDownloads = privateDownloads
        self.upstream = upstream
        self.blobBackend = blobBackend
        self.entryBackend = entryBackend
        self.logFormat = logFormat
        self.shutdownGrace = shutdownGrace
        self.basePath = basePath
        self.unixSocketPath = unixSocketPath
        self.censusInterval = censusInterval
    }

    /// Whether only this host can connect: a loopback address, not a wildcard, as the bind
    /// will resolve it.
    var listensOnLoopbackOnly: Bool {
        // Only this host reaches a Unix socket.
        if unixSocketPath != nil { return true }
        return LoopbackAddress.resolves(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
    }

    /// The options naming the files SIGHUP rereads, as given.
    var securityFileOptions: [String] {
        var options: [String] = []
        if tlsCertificateFile != nil { options += ["--tls-cert", "--tls-key"] }
        if clientCAFile != nil { options.append("--client-ca") }
        if !clientCRLFiles.isEmpty { options.append("--client-crl") }
        if basicAuthFile != nil { options.append("--basic-auth-file") }
        if trustedCertificatesFile != nil { options.append("--trusted-certificates") }
        return options
    }

    var scheme: String { tlsCertificateFile == nil ? "http" : "https" }
}
