public enum TrustVerdict: Sendable, Equatable {
    /// Trusted; the key ids of the signers that counted.
    case trusted(signers: [String])
    case refused(String)

    public var isTrusted: Bool {
        if case .trusted = self { return true }
        return false
    }

    public var signers: [String]? {
        if case .trusted(let signers) = self { return signers }
        return nil
    }

    public var refusal: String? {
        if case .refused(let reason) = self { return reason }
        return nil
    }
}
