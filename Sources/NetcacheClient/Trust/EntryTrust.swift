import FoundationEssentials
import NetcacheProtocol

/// Decides whether a signed entry counts: the flat list of `signature-certificate-list`, or
/// the roots' delegations. Every command that reads entries asks one.
public protocol EntryTrust: Sendable {
    func verdict(on statement: SignedStatement, at now: Date) -> TrustVerdict
    /// Whether nothing at all can be trusted (no key, or a stale or rolled-back document),
    /// and why: install then builds without looking further.
    var refusesEverything: String? { get }
}

extension SignedStatement {
    /// What a signer's scope is matched against, by the key the entry is filed under: the
    /// software URL of a binary entry (install also checks that it names the key's release),
    /// the URL of a download entry when it is the one its key hashes, else the key
    /// (`pypi:NAME==VERSION`). `nil` when the entry names no URL its key stands for: only an
    /// unscoped signer vouches for it, so that no field a scoped signer chooses widens its
    /// scope.
    public var subject: String? {
        let fields = self.fields
        if key.hasPrefix("netcache:") || (key.count == 32 && key.allSatisfy(\.isHexDigit)) {
            return fields?["software_url"]?.stringValue
        }
        if key.hasPrefix("file-urlmd5:") {
            guard let url = fields?["url"]?.stringValue, key == DownloadKey.url(url) else { return nil }
            return url
        }
        return key
    }

    /// Why the entry is void whoever signed it: it expired (`expires`), or its `info` is not
    /// an entry.
    func voidness(at now: Date) -> String? {
        guard let fields, fields["sha512"]?.stringValue != nil else { return "info is not an entry" }
        if let text = fields["expires"]?.stringValue {
            guard let expires = TrustDate.parse(text) else { return "its expires (\(text)) is not a date" }
            if expires <= now { return "expired on \(TrustDate.format(expires))" }
        }
        return nil
    }
}

/// How a threshold's shortfall reads.
func belowThreshold(_ count: Int, of threshold: Int) -> String {
    "below threshold: \(count) of the \(threshold) trusted signatures required"
}
