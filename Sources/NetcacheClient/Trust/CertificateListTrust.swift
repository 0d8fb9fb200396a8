import FoundationEssentials
import NetcacheProtocol

/// Trust as the Python tools have it: any key of `signature-certificate-list`, forever.
/// netcache adds the threshold, the signature policy and entry expiry.
public struct CertificateListTrust: EntryTrust {
    public let certificates: CertificateList
    public let threshold: Int
    public let policy: SignaturePolicy
    /// Download commands trust every entry when the list is empty, as upstream; the binary
    /// cache trusts none.
    public let emptyTrustsAll: Bool

    public init(certificates: CertificateList, threshold: Int = 1, policy: SignaturePolicy = .legacy, emptyTrustsAll: Bool) {
        self.certificates = certificates
        self.threshold = threshold
        self.policy = policy
        self.emptyTrustsAll = emptyTrustsAll
    }

    public var refusesEverything: String? {
        certificates.isEmpty && !emptyTrustsAll ? "signature-certificate-list is empty: nothing in the binary cache is trusted" : nil
    }

    public func verdict(on statement: SignedStatement, at now: Date) -> TrustVerdict {
        if let void = statement.voidness(at: now) { return .refused(void) }
        if certificates.isEmpty && emptyTrustsAll { return .trusted(signers: []) }
        let signers = certificates.signers(of: statement.info, signatures: statement.signatures)
        guard !signers.isEmpty else { return .refused("signature not trusted") }
        let counted = signers.filter { policy.accepts($0.scheme, under: statement.key) }
        guard !counted.isEmpty else { return .refused("signed only with RSA-SHA1 (signature-policy = modern)") }
        guard counted.count >= threshold else { return .refused(belowThreshold(counted.count, of: threshold)) }
        return .trusted(signers: counted.map(\.key.keyID))
    }
}
