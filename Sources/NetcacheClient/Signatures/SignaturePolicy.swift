/// `signature-policy` in `[networkcache]`: which signatures count on netcache's own entries.
/// Entries the Python tools read are RSA-SHA1 whatever the policy.
public enum SignaturePolicy: String, Sendable, CaseIterable {
    /// Today's deployments: RSA-SHA1 signatures still count on `netcache:` entries.
    case legacy
    /// `netcache:` entries count only with an Ed25519 or RSA-PSS-SHA256 signature.
    case modern

    /// Whether a signature made with `scheme` counts on an entry filed under `key`. Trust
    /// documents never accept RSA-SHA1: nothing old reads them.
    public func accepts(_ scheme: SignatureScheme, under key: String) -> Bool {
        guard !scheme.isModern else { return true }
        if key.hasPrefix(TrustKeys.documentPrefix) { return false }
        return self == .legacy || !SignatureScheme.isNetcacheKey(key)
    }
}
