import FoundationEssentials
import NetcacheProtocol

/// A key the roots delegated to: its certificate, role, scopes and expiry.
public struct DelegatedSigner: Sendable {
    public let certificate: String
    public let key: PublicKey
    public let role: TrustRole
    /// Prefixes of the software URLs (or download URLs, or keys) it may sign; none means all.
    public let scopes: [String]
    public let expires: Date

    public init(certificate: String, role: TrustRole, scopes: [String], expires: Date) throws {
        let list = CertificateList(pem: certificate)
        guard list.keys.count == 1, let key = list.keys.first else {
            throw TrustDocumentError("a signer must be exactly one certificate" + (list.skipped.first.map { ": \($0)" } ?? ""))
        }
        self.certificate = list.certificates[0]
        self.key = key
        self.role = role
        self.scopes = scopes
        self.expires = expires
    }

    /// Whether it may sign an entry about `subject` at all; an entry about nothing it can
    /// tell, only when it has no scope.
    public func covers(_ subject: String?) -> Bool {
        guard let subject else { return scopes.isEmpty }
        return scopes.isEmpty || scopes.contains { subject.hasPrefix($0) }
    }

    var json: JSONValue {
        .object(JSONObject([
            ("key_id", .string(key.keyID)),
            ("certificate", .string(certificate)),
            ("role", .string(role.rawValue)),
            ("scopes", .array(scopes.map(JSONValue.string))),
            ("expires", .string(TrustDate.format(expires))),
        ]))
    }

    init(json: JSONValue) throws {
        guard let object = json.objectValue, let certificate = object["certificate"]?.stringValue,
            let role = object["role"]?.stringValue.flatMap(TrustRole.init(rawValue:)),
            let scopes = object["scopes"]?.arrayValue, let expires = object["expires"]?.stringValue.flatMap(TrustDate.parse)
        else { throw TrustDocumentError("a signer needs certificate, role, scopes and expires") }
        try self.init(certificate: certificate, role: role, scopes: scopes.compactMap(\.stringValue), expires: expires)
    }
}
