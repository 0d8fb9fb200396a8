import NetcacheClient

/// The server a mirror answers for (`serve --upstream-cache URL --upstream-dir URL`): its
/// shacache and shadir may be on different hosts, as the public ones are.
public struct UpstreamSettings: Sendable {
    public var cacheURL: String
    public var directoryURL: String
    public var tls: TLSSettings
    /// How long an upstream shadir answer is served before upstream is asked again.
    public var directoryTTL: Duration
    /// How long "upstream does not have it" is believed.
    public var negativeTTL: Duration
    /// How long upstream is left alone after it could not be reached.
    public var backOff: Duration
    public var timeouts: TransferTimeouts
    /// Bytes of fetched blobs kept at most (`nil`: no bound); uploads here do not count.
    public var cacheSize: Int?
    /// Whether uploads here are forwarded upstream (`--upstream-push`), with `tls`'s client
    /// certificate or the URLs' credentials.
    public var push = false

    public init(
        cacheURL: String, directoryURL: String, tls: TLSSettings = TLSSettings(), directoryTTL: Duration = .seconds(300),
        negativeTTL: Duration = .seconds(30), backOff: Duration = .seconds(30),
        timeouts: TransferTimeouts = TransferTimeouts(connect: 5, lowSpeedLimit: 1024, lowSpeedTime: 15), cacheSize: Int? = nil
    ) {
        self.cacheURL = cacheURL
        self.directoryURL = directoryURL
        self.tls = tls
        self.directoryTTL = directoryTTL
        self.negativeTTL = negativeTTL
        self.backOff = backOff
        self.timeouts = timeouts
        self.cacheSize = cacheSize
    }
}
