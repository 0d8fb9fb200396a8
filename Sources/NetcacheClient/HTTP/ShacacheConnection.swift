import NetcacheProtocol

/// One kept-alive connection to shacache, for many small blobs in a row (the chunks of a
/// chunked release): a request per blob, without a new connection and TLS handshake each.
/// Used by one thread at a time; run several for parallel transfers.
public final class ShacacheConnection {
    public let client: ShacacheClient
    private let curl = CurlEasy()

    public init(_ client: ShacacheClient) {
        self.client = client
    }

    /// Uploads unless the server has the blob (a HEAD first, as `ShacacheClient.upload`);
    /// whether it was sent.
    @discardableResult
    public func upload(_ bytes: [UInt8], sha512: String) throws -> Bool {
        guard let uploadURL = client.uploadURL else { throw ConfigurationError("no upload-cache-url configured") }
        if try client.exists(sha512, baseURL: uploadURL, using: curl) { return false }
        try client.post(HTTPRequest(method: "POST", url: uploadURL, headers: ["Content-Type: application/octet-stream"],
                                    body: .bytes(bytes), tls: client.tls, timeouts: .uploads), expecting: sha512, using: curl)
        return true
    }

    /// The blob, at most `size` bytes and checked against its SHA-512 before it is
    /// returned. A wrong blob or a longer one is `invalidResponse`; a cut transfer is
    /// retried once from the start.
    public func download(_ sha512: String, size: Int, stopped: (@Sendable () -> Bool)? = nil) throws -> [UInt8] {
        guard client.downloadURL != nil else { throw ConfigurationError("no download-cache-url configured") }
        let url = client.blobURL(sha512)
        var attempt = 0
        while true {
            var body: [UInt8] = []
            // What the signed size promises, but no more than a chunk's worth up front.
            body.reserveCapacity(min(size, 4 << 20))
            var tooLong = false
            var request = HTTPRequest(method: "GET", url: url, tls: client.tls, timeouts: client.timeouts)
            request.stopped = stopped
            let outcome = Result { () throws(HTTPClientError) -> HTTPResponseHead in
                try curl.perform(request) { head, chunk in
                    guard head.status == 200 else { return false }
                    guard body.count + chunk.count <= size else {
                        tooLong = true
                        return false
                    }
                    body.append(contentsOf: chunk)
                    return true
                }
            }
            let head: HTTPResponseHead
            switch outcome {
            case .success(let answer):
                head = answer
            case .failure(let error):
                guard attempt == 0, stopped?() != true else { throw error }
                attempt += 1
                continue
            }
            guard head.status == 200 else { throw HTTPClientError(.status(head.status), method: "GET", url: url, detail: "") }
            guard !tooLong else { throw HTTPClientError(.invalidResponse, method: "GET", url: url, detail: "longer than the \(size) bytes its index signed") }
            let actual = StreamingDigest.sha512Hex(of: body)
            guard actual == sha512 else {
                throw HTTPClientError(.invalidResponse, method: "GET", url: url, detail: "invalid checksum: got SHA-512 \(actual.prefix(16))…")
            }
            return body
        }
    }
}
