import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Signed path-style requests to one bucket, over AsyncHTTPClient: bodies stream both ways
/// with back-pressure, and no thread waits on a transfer.
struct S3Client: Sendable {
    let settings: S3Settings
    let http: HTTPClient
    private let signer: SignatureV4

    /// Requests with small bodies are answered well within this; blob bodies are not bound.
    static let shortDeadline = TimeAmount.seconds(60)
    /// A part or a whole blob up to the multipart threshold, at a slow 1 MB/s.
    static let transferDeadline = TimeAmount.minutes(10)

    init(settings: S3Settings, http: HTTPClient) {
        self.settings = settings
        self.http = http
        signer = SignatureV4(credentials: settings.credentials, region: settings.region)
    }

    /// A request for `key` (the bucket itself when `nil`), signed for its query and headers.
    func request(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], payloadHash: String = SignatureV4.unsignedPayload) -> HTTPClientRequest {
        var path = settings.endpoint.path.hasSuffix("/") ? String(settings.endpoint.path.dropLast()) : settings.endpoint.path
        path += "/" + settings.location.bucket + "/"
        if let key { path += SignatureV4.encode(key, keepSlashes: true) }
        let host = settings.endpoint.host.map { host in settings.endpoint.port.map { "\(host):\($0)" } ?? host } ?? ""
        let queryText = SignatureV4.canonicalQuery(query)
        var url = "\(settings.endpoint.scheme ?? "https")://\(host)\(path)"
        if !queryText.isEmpty { url += "?" + queryText }
        var request = HTTPClientRequest(url: url)
        request.method = method
        let toSign = [("host", host)] + headers
        for (name, value) in toSign + signer.sign(method: method.rawValue, encodedPath: path, query: query, headers: toSign, payloadHash: payloadHash, date: Date()) {
            request.headers.add(name: name, value: value)
        }
        return request
    }

    /// Sends a request whose answer is small, and returns it read whole.
    func send(_ request: HTTPClientRequest, named name: String, deadline: TimeAmount = shortDeadline, expecting expected: Set<UInt> = [200]) async throws -> (HTTPClientResponse, Data) {
        let response = try await http.execute(request, timeout: deadline)
        let body = try await response.body.collect(upTo: 16 << 20)
        let data = Data(buffer: body)
        guard expected.contains(response.status.code) else { throw failure(response.status.code, data, name) }
        return (response, data)
    }

    func failure(_ status: UInt, _ body: Data, _ name: String) -> S3Error {
        S3Error(status: Int(status), code: (try? S3XML(body))?.values["Code"], request: name)
    }
}
