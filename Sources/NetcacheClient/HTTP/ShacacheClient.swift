import Foundation
import NetcacheProtocol

/// shacache over HTTP: existence checks, uploads with retries, downloads checked against
/// their SHA-512 while streaming and resumed with `Range` after a cut connection.
public struct ShacacheClient: Sendable {
    public let downloadURL: String?
    public let uploadURL: String?
    public let tls: TLSSettings
    public var retry = UploadRetry()
    /// Reconnections allowed while downloading one blob.
    public var resumeAttempts = 5
    /// For existence checks and downloads; uploads wait as `TransferTimeouts.uploads` says.
    public var timeouts = TransferTimeouts.downloads

    public init(downloadURL: String?, uploadURL: String?, tls: TLSSettings) {
        self.downloadURL = downloadURL
        self.uploadURL = uploadURL
        self.tls = tls
    }

    private func blobURL(_ base: String, _ sha512: String) -> String {
        base.trimmingSuffix("/") + "/" + sha512
    }

    /// Where `download` gets the blob.
    public func blobURL(_ sha512: String) -> String {
        blobURL(downloadURL ?? "", sha512)
    }

    /// Whether the blob is stored: HEAD, or for servers that refuse HEAD a GET dropped
    /// after its head. Any 2xx means stored, as upstream.
    public func exists(_ sha512: String, baseURL: String) throws(HTTPClientError) -> Bool {
        try exists(sha512, baseURL: baseURL, using: CurlEasy())
    }

    func exists(_ sha512: String, baseURL: String, using curl: CurlEasy) throws(HTTPClientError) -> Bool {
        let url = blobURL(baseURL, sha512)
        var head = try curl.perform(HTTPRequest(method: "HEAD", url: url, tls: tls, timeouts: timeouts)) { _, _ in true }
        if head.status == 405 || head.status == 501 {
            head = try curl.perform(HTTPRequest(method: "GET", url: url, tls: tls, timeouts: timeouts)) { _, _ in false }
        }
        return (200..<300).contains(head.status)
    }

    /// Uploads a file unless the server already has it; returns its SHA-512.
    @discardableResult
    public func upload(file path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ConfigurationError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ConfigurationError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let sha512 = try Self.sha512(of: descriptor, path: path)
        try upload(descriptor: descriptor, size: Int(status.st_size), sha512: sha512)
        return sha512
    }

    /// Uploads a few bytes held in memory (a trust document) unless the server already has
    /// them; returns their SHA-512.
    @discardableResult
    public func upload(bytes: [UInt8]) throws -> String {
        guard let uploadURL else { throw ConfigurationError("no upload-cache-url configured") }
        let sha512 = StreamingDigest.sha512Hex(of: bytes)
        if try exists(sha512, baseURL: uploadURL) { return sha512 }
        try post(HTTPRequest(method: "POST", url: uploadURL, headers: ["Content-Type: application/octet-stream"],
                             body: .bytes(bytes), tls: tls, timeouts: .uploads), expecting: sha512)
        return sha512
    }

    /// Uploads `size` bytes from the start of an open file whose SHA-512 the caller knows
    /// (it hashed them while writing), unless the server already has them. Nothing is
    /// opened by name: the descriptor is what was written.
    public func upload(descriptor: Int32, size: Int, sha512: String) throws {
        guard let uploadURL else { throw ConfigurationError("no upload-cache-url configured") }
        if try exists(sha512, baseURL: uploadURL) { return }
        try post(HTTPRequest(method: "POST", url: uploadURL, headers: ["Content-Type: application/octet-stream"],
                             body: .descriptor(descriptor, size: size), tls: tls, timeouts: .uploads), expecting: sha512)
    }

    /// POSTs with retries, then insists on `201` and the hex SHA-512 as the whole body,
    /// as upstream clients do.
    func post(_ request: HTTPRequest, expecting sha512: String, using curl: CurlEasy = CurlEasy()) throws(HTTPClientError) {
        try retry.run { () throws(HTTPClientError) in
            var answer: [UInt8] = []
            let head = try curl.perform(request) { _, chunk in
                answer.append(contentsOf: chunk.prefix(4096 - answer.count))
                return true
            }
            let text = String(decoding: answer, as: UTF8.self)
            guard head.status == 201 && text == sha512 else {
                let detail = head.status == 201 ? "unexpected answer '\(text.prefix(200))'" : text.trimmingCharacters(in: .whitespacesAndNewlines)
                throw HTTPClientError(.status(head.status), method: "POST", url: request.url, detail: detail)
            }
        }
    }

    /// Streams the blob to `sink`, checking its SHA-512; resumes with `Range` when the
    /// connection is cut and the server advertised byte ranges. Throws at the end on a
    /// checksum mismatch: `sink` must treat what it got as untrusted until this returns.
    /// `stopped` returning `true` ends the transfer within about a second, even one that
    /// waits for a stalled server, with an error.
    public func download(
        _ sha512: String, stopped: (@Sendable () -> Bool)? = nil, into sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let downloadURL else { throw ConfigurationError("no download-cache-url configured") }
        let url = blobURL(downloadURL, sha512)
        let digest = StreamingDigest.sha512()
        var position = 0
        var resumable = false
        var sinkError: (any Error)?
        var attempt = 0
        while true {
            let start = position
            let expectedStatus = start == 0 ? 200 : 206
            var request = HTTPRequest(method: "GET", url: url, tls: tls, timeouts: timeouts, resumeFrom: start)
            request.stopped = stopped
            let result = Result { () throws(HTTPClientError) -> HTTPResponseHead in
                try CurlEasy().perform(request) { head, bytes in
                    guard head.status == expectedStatus else { return false }
                    if start == 0 && position == 0 {
                        resumable = head.headers["accept-ranges"] == "bytes" && head.contentLength != nil
                    }
                    digest.update(bytes)
                    position += bytes.count
                    do { try sink(bytes) } catch {
                        sinkError = error
                        return false
                    }
                    return true
                }
            }
            if let sinkError { throw sinkError }
            switch result {
            case .failure(let error):
                guard resumable, attempt < resumeAttempts, position > start, stopped?() != true else { throw error }
                attempt += 1
                continue
            case .success(let head):
                guard head.status == expectedStatus else {
                    throw HTTPClientError(.status(head.status), method: "GET", url: url, detail: start == 0 ? "" : "resuming at byte \(start) failed")
                }
            }
            break
        }
        let actual = digest.finalize()
        guard actual == sha512 else {
            throw HTTPClientError(.invalidResponse, method: "GET", url: url, detail: "invalid checksum: got SHA-512 \(actual.prefix(16))…")
        }
    }

    private static func sha512(of descriptor: Int32, path: String) throws -> String {
        let digest = StreamingDigest.sha512()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { throw ConfigurationError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return digest.finalize()
    }
}

extension String {
    func trimmingSuffix(_ suffix: Character) -> String {
        var text = self
        while text.last == suffix { text.removeLast() }
        return text
    }
}
