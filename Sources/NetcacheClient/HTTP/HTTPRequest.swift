import Foundation

/// The TLS settings for one service: its CA file (to verify the server) and the client
/// certificate and key (TLS client authentication is how production authorises uploads).
public struct TLSSettings: Sendable, Equatable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// One HTTP exchange for `CurlEasy`.
struct HTTPRequest {
    enum Body {
        case bytes([UInt8])
        /// Streamed from an open file, `size` bytes from its start, read with `pread` so
        /// that the descriptor's offset does not matter (a retry starts over).
        case descriptor(Int32, size: Int)
    }

    var method: String
    var url: String
    var headers: [String] = []
    var body: Body?
    var tls = TLSSettings()
    var timeouts = TransferTimeouts.downloads
    /// Ask for the bytes from this offset on (`Range: bytes=N-`).
    var resumeFrom = 0
    /// Origins redirect; caches do not.
    var followRedirects = false
    /// Asked about once a second while the transfer runs, even when no byte arrives:
    /// `true` aborts it, so that a transfer nobody waits for any more does not go on
    /// until its timeout.
    var stopped: (@Sendable () -> Bool)?
}

/// The status line and headers of an answer (names lower-cased, the last value kept).
struct HTTPResponseHead {
    var status = 0
    var headers: [String: String] = [:]

    var contentLength: Int? { headers["content-length"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}
