import FoundationEssentials
import NetcacheProtocol

/// A timestamp: an online key with the timestamp role says which document version is
/// current, and until when. A node trusts nothing once the newest one has expired, so a
/// cache cannot hold it on a document from before a revocation.
public struct TrustTimestamp: Sendable {
    public static let type = "netcache-trust-timestamp"

    public var documentVersion: Int
    /// SHA-512 of the document's exact `info` text.
    public var documentSHA512: String
    public var issuedAt: Date
    public var expires: Date

    public init(documentVersion: Int, documentSHA512: String, issuedAt: Date, expires: Date) {
        self.documentVersion = documentVersion
        self.documentSHA512 = documentSHA512
        self.issuedAt = issuedAt
        self.expires = expires
    }

    public init?(statement: SignedStatement) throws {
        guard let fields = statement.fields, fields["type"]?.stringValue == Self.type else { return nil }
        guard case .integer(let version) = fields["document_version"],
            let sha512 = fields["document_sha512"]?.stringValue, isSHA512Hex(sha512),
            let issuedAt = fields["issued_at"]?.stringValue.flatMap(TrustDate.parse),
            let expires = fields["expires"]?.stringValue.flatMap(TrustDate.parse)
        else { throw TrustDocumentError("a timestamp needs document_version, document_sha512, issued_at and expires") }
        self.init(documentVersion: version, documentSHA512: sha512.lowercased(), issuedAt: issuedAt, expires: expires)
    }

    public var body: JSONObject {
        JSONObject([
            ("type", .string(Self.type)),
            ("document_version", .integer(documentVersion)),
            ("document_sha512", .string(documentSHA512)),
            ("issued_at", .string(TrustDate.format(issuedAt))),
            ("expires", .string(TrustDate.format(expires))),
        ])
    }
}
