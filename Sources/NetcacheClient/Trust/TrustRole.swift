/// What a delegated signer may sign.
public enum TrustRole: String, Sendable, CaseIterable {
    /// Entries, for software URLs under its scopes.
    case sign
    /// Timestamps of the trust document, nothing else: an online key whose theft only
    /// lets the thief keep a document fresh.
    case timestamp
}
