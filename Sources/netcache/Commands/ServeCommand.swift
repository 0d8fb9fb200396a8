import ArgumentParser
import Foundation
import Logging
import NetcacheClient
import NetcacheServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve shacache (/shacache) and shadir (/shadir) from a data directory.",
        discussion: """
            With no options this is a developer's local cache: data in ./netcache-data, \
            listening on 127.0.0.1:8080, anonymous uploads from this host only.

            Uploads need credentials: TLS client certificates signed by --client-ca (how \
            production authorises uploaders) or users of --basic-auth-file. A server that \
            listens on anything but loopback refuses to start without them unless given \
            --allow-anonymous-uploads.

            SIGHUP rereads the TLS certificate and key, the client CA and CRLs, the basic auth \
            file and the trusted certificates, without dropping connections; when one of them \
            does not load, the previous settings stay in force and the log says why.

            Blobs and entries live in the data directory unless --store puts blobs in an S3 \
            bucket and --directory entries in PostgreSQL, each on its own. With both, the \
            server keeps nothing of its own but staged uploads, and several servers on the \
            same bucket and database serve the same cache behind a load balancer (each with its \
            own --data). Blobs reach the bucket only once verified.

            The first line on stdout is "listening on URL", printed once the port is bound.
            """
    )

    @Option(help: ArgumentHelp("Directory holding blobs and the shadir database.", valueName: "dir"))
    var data = "netcache-data"

    @Option(help: ArgumentHelp("Address to listen on: HOST:PORT (port 0 picks a free port), or unix:PATH for a Unix socket, which only this host reaches.", valueName: "host:port|unix:path"))
    var listen = ListenAddress(argument: "127.0.0.1:8080")!

    @Option(help: ArgumentHelp("Serve under this URL prefix (/cache: /cache/shacache, /cache/shadir, /cache/health), for a reverse proxy that forwards it unchanged.", valueName: "/prefix"))
    var basePath: String?

    @Option(help: ArgumentHelp("Largest accepted upload, in bytes or with a K, M, G or T suffix; larger ones get 413.", valueName: "size"))
    var maxUploadSize = ByteSize(argument: "16G")!

    @Option(help: ArgumentHelp("Free space uploads must leave on the data directory's file system (default: 1G or 5 % of it, whichever is smaller); uploads that would not get 507.", valueName: "size"))
    var minFreeSpace: ByteSize?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve HTTPS with this PEM certificate (chain).", valueName: "file"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("client-ca"), help: ArgumentHelp("CA whose client certificates may upload (needs TLS).", valueName: "file"))
    var clientCA: String?

    @Option(name: .customLong("client-crl"), help: ArgumentHelp("PEM revocation lists of --client-ca (repeatable); certificates they revoke may not upload.", valueName: "file"))
    var clientCRLs: [String] = []

    @Option(help: ArgumentHelp("htpasswd-style file of bcrypt users who may upload (for deployments behind a proxy).", valueName: "file"))
    var basicAuthFile: String?

    @Option(help: ArgumentHelp("PEM certificates: shadir entries must be signed by one of them (403 otherwise).", valueName: "file"))
    var trustedCertificates: String?

    @Option(help: ArgumentHelp("Mirror this shacache: blobs missing here are fetched from it, verified and kept (needs --upstream-dir).", valueName: "url"))
    var upstreamCache: String?

    @Option(help: ArgumentHelp("Mirror this shadir: its entries are listed after the local ones (needs --upstream-cache).", valueName: "url"))
    var upstreamDir: String?

    @Option(help: ArgumentHelp("Seconds an upstream shadir answer is served before upstream is asked again; it is served past that while upstream is down.", valueName: "seconds"))
    var upstreamDirTtl = 300

    @Option(help: ArgumentHelp("Seconds a blob or key upstream does not have is not asked for again.", valueName: "seconds"))
    var upstreamNegativeTtl = 30

    @Option(help: ArgumentHelp("Seconds upstream is left alone after it could not be reached.", valueName: "seconds"))
    var upstreamBackoff = 30

    @Option(help: ArgumentHelp("Seconds to connect to upstream.", valueName: "seconds"))
    var upstreamConnectTimeout = 5

    @Option(help: ArgumentHelp("CA to verify an HTTPS upstream against.", valueName: "file"))
    var upstreamCA: String?

    @Option(help: ArgumentHelp("The mirror's own TLS client certificate for upstream (with --upstream-key), for --upstream-push.", valueName: "file"))
    var upstreamCert: String?

    @Option(help: ArgumentHelp("The PEM key of --upstream-cert.", valueName: "file"))
    var upstreamKey: String?

    @Flag(help: "Forward uploads to the mirror upstream too, in order, retried until upstream takes them.")
    var upstreamPush = false

    @Option(help: ArgumentHelp("Bytes of blobs fetched from upstream kept at most, least recently used evicted first (K, M, G, T suffixes); uploads to the mirror itself are never evicted.", valueName: "size"))
    var cacheSize: ByteSize?

    @Flag(help: "Accept uploads without credentials from anyone who can connect.")
    var allowAnonymousUploads = false

    @Flag(help: "Require the upload credentials for downloads too.")
    var privateDownloads = false

    @OptionGroup var backends: BackendOptions

    @Option(help: ArgumentHelp("Read options from the [serve] section of this INI file (slapos.cfg's syntax; keys are the long option names, true/false for switches, one value per line for a repeatable option); the command line overrides it.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The least severe messages logged: trace, debug, info (every request), notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp("text, or json: one JSON object per line, the access log's method, path, status, bytes, duration_ms and uploader as fields.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("Seconds between two counts of the store's blobs, bytes and entries for /metrics (each walks the store).", valueName: "seconds"))
    var metricsCensusInterval = 300

    @Option(help: ArgumentHelp("Seconds SIGTERM waits for transfers in flight to finish before it cuts them; new connections are refused meanwhile.", valueName: "seconds"))
    var shutdownGrace = 30

    /// In `run()`, so that a misspelt option is reported as such (`UsageError`).
    private func checkArguments() throws {
        if (upstreamCache == nil) != (upstreamDir == nil) { throw ValidationError("--upstream-cache and --upstream-dir go together") }
        for (name, value) in [("--upstream-dir-ttl", upstreamDirTtl), ("--upstream-negative-ttl", upstreamNegativeTtl), ("--upstream-backoff", upstreamBackoff)] where value < 0 {
            throw ValidationError("\(name) takes a number of seconds, 0 or more")
        }
        if (upstreamCert == nil) != (upstreamKey == nil) { throw ValidationError("--upstream-cert and --upstream-key go together") }
        if (cacheSize != nil || upstreamPush) && upstreamCache == nil { throw ValidationError("--cache-size and --upstream-push are for a mirror: give --upstream-cache and --upstream-dir") }
        if upstreamConnectTimeout < 1 { throw ValidationError("--upstream-connect-timeout takes a number of seconds, 1 or more") }
        if let basePath, !basePath.hasPrefix("/") || basePath == "/" || basePath.contains("//") {
            throw ValidationError("--base-path takes a path such as /cache")
        }
        if metricsCensusInterval < 1 { throw ValidationError("--metrics-census-interval takes a number of seconds, 1 or more") }
        if shutdownGrace < 0 { throw ValidationError("--shutdown-grace takes a number of seconds, 0 or more") }
    }

    private var upstream: UpstreamSettings? {
        guard let upstreamCache, let upstreamDir else { return nil }
        var settings = UpstreamSettings(
            cacheURL: upstreamCache, directoryURL: upstreamDir, tls: TLSSettings(caFile: upstreamCA, certificateFile: upstreamCert, keyFile: upstreamKey),
            directoryTTL: .seconds(upstreamDirTtl), negativeTTL: .seconds(upstreamNegativeTtl), backOff: .seconds(upstreamBackoff),
            timeouts: TransferTimeouts(connect: upstreamConnectTimeout, lowSpeedLimit: 1024, lowSpeedTime: 15), cacheSize: cacheSize?.bytes)
        settings.push = upstreamPush
        return settings
    }

    func run() async throws {
        try checkArguments()
        if let config {
            try await Self.fromFile(config).run()
            return
        }
        var (host, port, socket) = ("127.0.0.1", 0, String?.none)
        switch listen.kind {
        case .tcp(let listenHost, let listenPort): (host, port) = (listenHost, listenPort)
        case .unix(let path): socket = path
        }
        let configuration = ServerConfiguration(
            dataDirectory: URL(fileURLWithPath: data),
            host: host,
            port: port,
            maxUploadSize: maxUploadSize.bytes,
            minimumFreeSpace: minFreeSpace?.bytes,
            tlsCertificateFile: tlsCertificate,
            tlsKeyFile: tlsKey,
            clientCAFile: clientCA,
            clientCRLFiles: clientCRLs,
            basicAuthFile: basicAuthFile,
            trustedCertificatesFile: trustedCertificates,
            allowAnonymousUploads: allowAnonymousUploads,
            privateDownloads: privateDownloads,
            upstream: upstream,
            blobBackend: try backends.blobBackend() ?? .dataDirectory,
            entryBackend: backends.entryBackend ?? .dataDirectory,
            logFormat: logFormat,
            shutdownGrace: .seconds(shutdownGrace),
            basePath: basePath.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "",
            unixSocketPath: socket,
            censusInterval: .seconds(metricsCensusInterval))
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = logFormat == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "netcache")
        logger.logLevel = level
        let server = try NetcacheServer(configuration: configuration, logger: logger)
        logger.info("\(server.policySummary)")
        try await server.run { url in
            // The server is up whether or not anyone reads this: it goes on serving.
            do { try printFlushed("listening on \(url)") } catch { printWarning("\(error)") }
        }
    }

    /// The command this one stands for once the file's options are added to the command
    /// line's. The parser's error for a bad key names the file.
    private static func fromFile(_ path: String) throws -> ServeCommand {
        let commandLine = Array(CommandLine.arguments.drop { $0 != "serve" }.dropFirst())
        let arguments = try ServeConfigurationFile(path: path).arguments(besides: commandLine) + commandLine
        var command: ServeCommand
        do {
            command = try parse(arguments)
        } catch {
            throw ValidationError("\(path): \(message(for: error))")
        }
        command.config = nil
        return command
    }
}
