import FoundationEssentials
import NetcacheProtocol

/// Trust from the roots' document: an entry counts when `threshold` distinct signers it
/// delegates the sign role to signed it, each unexpired and with the entry's URL in scope,
/// and the document did not revoke the entry. A stale or rolled-back document trusts nothing.
public struct DelegatedTrust: EntryTrust {
    public let resolved: ResolvedTrust
    public let threshold: Int
    public let policy: SignaturePolicy

    public init(resolved: ResolvedTrust, threshold: Int, policy: SignaturePolicy) {
        self.resolved = resolved
        self.threshold = threshold
        self.policy = policy
    }

    public var refusesEverything: String? { resolved.refusal }

    public func verdict(on statement: SignedStatement, at now: Date) -> TrustVerdict {
        if let refusal = resolved.refusal { return .refused(refusal) }
        guard let document = resolved.document else { return .refused("no trust document") }
        if let void = statement.voidness(at: now) { return .refused(void) }
        if let sha512 = statement.fields?["sha512"]?.stringValue?.lowercased(), document.revokedEntries.contains(sha512) {
            return .refused("entry revoked by trust document version \(document.version)")
        }
        let candidates = document.signers.filter { $0.role == .sign }
        let list = CertificateList(keys: candidates.map(\.key), certificates: candidates.map(\.certificate), skipped: [])
        let signed = list.signers(of: statement.info, signatures: statement.signatures)
        guard !signed.isEmpty else {
            if let revoked = document.revokedSigners.signers(of: statement.info, signatures: statement.signatures).first {
                return .refused("signer \(revoked.key.keyID.prefix(12)) revoked by trust document version \(document.version)")
            }
            return .refused("signature not trusted: no signer of trust document version \(document.version) signed it")
        }
        var counted: [String] = []
        var reasons: [String] = []
        for (key, scheme) in signed {
            guard let signer = document.signer(withKeyID: key.keyID) else { continue }
            let name = key.keyID.prefix(12)
            if !policy.accepts(scheme, under: statement.key) {
                reasons.append("signer \(name) signed only with RSA-SHA1 (signature-policy = modern)")
            } else if signer.expires <= now {
                reasons.append("signer \(name) expired on \(TrustDate.format(signer.expires))")
            } else if !signer.covers(statement.subject) {
                let subject = statement.subject ?? "an entry naming no URL its key stands for"
                reasons.append("\(subject) is out of scope of signer \(name) (\(signer.scopes.joined(separator: ", ")))")
            } else {
                counted.append(key.keyID)
            }
        }
        if counted.count >= threshold { return .trusted(signers: counted) }
        if counted.isEmpty, let first = reasons.first { return .refused(reasons.count == 1 ? first : reasons.joined(separator: "; ")) }
        return .refused(([belowThreshold(counted.count, of: threshold)] + reasons).joined(separator: "; "))
    }
}
