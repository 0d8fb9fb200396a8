import Foundation
import NetcacheProtocol

/// shadir over HTTP: list a key's entries, file a new one.
public struct ShadirClient: Sendable {
    public let downloadURL: String?
    public let uploadURL: String?
    public let tls: TLSSettings
    public var retry = UploadRetry()
    /// For lookups; uploads wait as `TransferTimeouts.uploads` says.
    public var timeouts = TransferTimeouts.downloads

    public init(downloadURL: String?, uploadURL: String?, tls: TLSSettings) {
        self.downloadURL = downloadURL
        self.uploadURL = uploadURL
        self.tls = tls
    }

    /// Keys go raw in the path (`:` and `=` included), as upstream sends them; only what
    /// cannot appear in a path is escaped. Foundation's path set leaves `:` out, since it
    /// could be read as a scheme in a relative reference, which a key after a `/` never is.
    private func keyURL(_ base: String, _ key: String) -> String {
        base.trimmingSuffix("/") + "/" + (key.addingPercentEncoding(withAllowedCharacters: Self.rawInPath) ?? key)
    }

    private static let rawInPath = CharacterSet.urlPathAllowed.union(CharacterSet(charactersIn: ":="))

    /// The entries under `key`, in the server's order; none for an unknown key (404).
    public func entries(for key: String) throws -> [ShadirEntry] {
        guard let downloadURL else { throw ConfigurationError("no download-dir-url configured") }
        let url = keyURL(downloadURL, key)
        var body: [UInt8] = []
        let head = try CurlEasy().perform(HTTPRequest(method: "GET", url: url, tls: tls, timeouts: timeouts)) { _, chunk in
            body.append(contentsOf: chunk)
            return body.count < 256 << 20
        }
        if head.status == 404 { return [] }
        guard head.status == 200 else {
            throw HTTPClientError(.status(head.status), method: "GET", url: url, detail: String(decoding: body.prefix(200), as: UTF8.self))
        }
        do {
            return try ShadirListing.parse(body)
        } catch {
            throw HTTPClientError(.invalidResponse, method: "GET", url: url, detail: "not a shadir listing: \(error)")
        }
    }

    /// Files an entry under `key`; the server must answer `201`.
    public func put(_ entry: ShadirEntry, under key: String) throws {
        guard let uploadURL else { throw ConfigurationError("no upload-dir-url configured") }
        let request = HTTPRequest(
            method: "PUT", url: keyURL(uploadURL, key), headers: ["Content-Type: application/json"],
            body: .bytes(Array(entry.body.utf8)), tls: tls, timeouts: .uploads)
        try retry.run { () throws(HTTPClientError) in
            var answer: [UInt8] = []
            let head = try CurlEasy().perform(request) { _, chunk in
                answer.append(contentsOf: chunk.prefix(4096 - answer.count))
                return true
            }
            guard head.status == 201 else {
                throw HTTPClientError(.status(head.status), method: "PUT", url: request.url,
                                      detail: String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }
}
