/// How an entry's `info` is signed.
///
/// The SlapOS Python tools verify RSA PKCS#1 v1.5 over SHA-1 only, so entries they read
/// (`<md5>`, `file-urlmd5:`, `pypi:`) keep it. Entries only netcache reads (`netcache:`,
/// trust documents) are signed with Ed25519, or RSA-PSS over SHA-256 for an RSA key.
public enum SignatureScheme: String, Sendable {
    case rsaSHA1 = "rsa-sha1"
    case ed25519
    case rsaPSSSHA256 = "rsa-pss-sha256"

    public var isModern: Bool { self != .rsaSHA1 }

    /// Whether entries filed under `key` are netcache's own, which no Python tool reads.
    public static func isNetcacheKey(_ key: String) -> Bool {
        key.hasPrefix("netcache:") || key.hasPrefix(TrustKeys.documentPrefix)
    }
}
