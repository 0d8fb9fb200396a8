import FoundationEssentials
import NetcacheProtocol

/// The trust settings of `[networkcache]`.
public struct TrustSettings: Sendable {
    /// `signature-certificate-list`: keys trusted flatly, forever, as the Python tools do.
    public var certificates: CertificateList
    /// `signature-root-list`: when set, trust comes from the roots' document only.
    public var roots: CertificateList
    /// `signature-root-threshold`: how many of the configured roots sign the first document.
    public var rootThreshold: Int
    /// `signature-threshold`: distinct trusted signers an entry needs.
    public var threshold: Int
    public var policy: SignaturePolicy
    /// `trust-state-file`.
    public var stateFile: String

    public static let defaultStateFile = "/var/lib/netcache/trust-state.json"

    public init(configuration: NetworkCacheConfiguration) throws {
        certificates = CertificateList(pem: configuration.signatureCertificateList)
        roots = CertificateList(pem: configuration.signatureRootList)
        func count(_ key: String, _ text: String?) throws -> Int {
            guard let text else { return 1 }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
                throw ConfigurationError("\(key): expected a whole number of at least 1, got '\(text)'")
            }
            return value
        }
        rootThreshold = try count("signature-root-threshold", configuration.signatureRootThreshold)
        threshold = try count("signature-threshold", configuration.signatureThreshold)
        if let text = configuration.signaturePolicy {
            guard let policy = SignaturePolicy(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError("signature-policy: expected legacy or modern, got '\(text)'")
            }
            self.policy = policy
        } else {
            policy = .legacy
        }
        stateFile = configuration.trustStateFile ?? Self.defaultStateFile
        if !roots.isEmpty && rootThreshold > roots.keys.count {
            throw ConfigurationError("signature-root-threshold is \(rootThreshold) but signature-root-list holds \(roots.keys.count) root(s)")
        }
    }

    /// Names the configured roots, whatever order they are listed in: the trust state is
    /// kept per chain, and a node given other roots starts a chain of its own.
    public var chainID: String {
        StreamingDigest.sha512Hex(of: Array(roots.keys.map(\.keyID).sorted().joined(separator: ",").utf8))
    }

    /// Lines for the operator: certificates that were skipped.
    public var skipped: [String] {
        certificates.skipped + roots.skipped.map { "signature-root-list: " + $0 }
    }
}
