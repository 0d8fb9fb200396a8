import FoundationEssentials
import NetcacheProtocol

/// One version of a root's trust document: the roots and how many of them sign the next
/// version, the signers they delegate to, and what they revoked.
///
/// It is filed in shadir like an entry, its `info` these fields and `sha512` the blob of the
/// same fields, so that sweeps, mirrors and bundles keep it as they keep any entry.
public struct TrustDocument: Sendable {
    public static let type = "netcache-trust"

    public var version: Int
    public var issuedAt: Date
    /// The root keys' certificates; `rootThreshold` of them sign each next version.
    public var roots: CertificateList
    public var rootThreshold: Int
    public var signers: [DelegatedSigner]
    /// Certificates of signers taken back: never delegated to again, named in refusals.
    public var revokedSigners: CertificateList
    /// SHA-512s of entries no longer trusted, whoever signed them.
    public var revokedEntries: [String]

    public init(version: Int, issuedAt: Date, roots: CertificateList, rootThreshold: Int, signers: [DelegatedSigner] = [], revokedSigners: CertificateList = .empty, revokedEntries: [String] = []) {
        self.version = version
        self.issuedAt = issuedAt
        self.roots = roots
        self.rootThreshold = rootThreshold
        self.signers = signers
        self.revokedSigners = revokedSigners
        self.revokedEntries = revokedEntries
    }

    /// The document of a statement, or `nil` when the statement is not one (a timestamp).
    public init?(statement: SignedStatement) throws {
        guard let fields = statement.fields, fields["type"]?.stringValue == Self.type else { return nil }
        guard case .integer(let version) = fields["version"], version > 0,
            let issuedAt = fields["issued_at"]?.stringValue.flatMap(TrustDate.parse),
            let roots = fields["roots"]?.arrayValue?.compactMap(\.stringValue),
            case .integer(let rootThreshold) = fields["root_threshold"],
            let signers = fields["signers"]?.arrayValue,
            let revokedSigners = fields["revoked_signers"]?.arrayValue?.compactMap(\.stringValue),
            let revokedEntries = fields["revoked_entries"]?.arrayValue?.compactMap(\.stringValue)
        else { throw TrustDocumentError("a trust document needs version, issued_at, roots, root_threshold, signers and revocations") }
        let rootList = CertificateList(pem: roots.joined(separator: "\n"))
        let revokedList = CertificateList(pem: revokedSigners.joined(separator: "\n"))
        guard rootList.keys.count == roots.count, rootThreshold >= 1, rootThreshold <= roots.count else {
            throw TrustDocumentError("version \(version): its roots do not all parse, or its root threshold is not between 1 and their number")
        }
        self.init(
            version: version, issuedAt: issuedAt, roots: rootList, rootThreshold: rootThreshold,
            signers: try signers.map(DelegatedSigner.init(json:)), revokedSigners: revokedList,
            revokedEntries: revokedEntries.map { $0.lowercased() })
    }

    /// The fields without `sha512`: the blob's bytes are their JSON.
    public var body: JSONObject {
        JSONObject([
            ("type", .string(Self.type)),
            ("version", .integer(version)),
            ("issued_at", .string(TrustDate.format(issuedAt))),
            ("roots", .array(roots.certificates.map(JSONValue.string))),
            ("root_threshold", .integer(rootThreshold)),
            ("signers", .array(signers.map(\.json))),
            ("revoked_signers", .array(revokedSigners.certificates.map(JSONValue.string))),
            ("revoked_entries", .array(revokedEntries.map(JSONValue.string))),
        ])
    }

    public var rootKeyIDs: [String] { roots.keys.map(\.keyID) }

    public func signer(withKeyID keyID: String) -> DelegatedSigner? {
        signers.first { $0.key.keyID == keyID }
    }
}
