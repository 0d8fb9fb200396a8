import HTTPTypes

/// The headers a reverse proxy adds: their presence means the client is not on this host.
extension HTTPField.Name {
    static let forwarded = HTTPField.Name("Forwarded")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
