/// A failed HTTP exchange, named by method and URL (credentials removed).
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server answered with this unexpected status.
        case status(Int)
        /// No complete answer: connection, TLS, timeout or a cut transfer.
        case transport
        /// The answer arrived but is wrong (bad checksum, unexpected body).
        case invalidResponse
    }

    public let kind: Kind
    public let method: String
    public let url: String
    public let detail: String

    public init(_ kind: Kind, method: String, url: String, detail: String) {
        self.kind = kind
        self.method = method
        self.url = redactedURL(url)
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .status(let code): return "\(method) \(url): HTTP \(code)\(detail.isEmpty ? "" : ": \(detail)")"
        case .transport, .invalidResponse: return "\(method) \(url): \(detail)"
        }
    }

    public var status: Int? {
        if case .status(let code) = kind { return code }
        return nil
    }
}

/// The URL without its `user:password@`, for messages and logs.
public func redactedURL(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let rest = url[schemeEnd.upperBound...]
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
    return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
}
