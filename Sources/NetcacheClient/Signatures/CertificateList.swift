import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// The trust list: concatenated PEM certificates (`signature-certificate-list`).
///
/// Only the public keys matter and expiry is not checked, as upstream. A certificate that
/// does not parse is reported and skipped, not fatal.
public struct CertificateList: Sendable {
    public let keys: [PublicKey]
    /// One line per certificate that was skipped, saying why.
    public let skipped: [String]

    public static let empty = CertificateList(keys: [], skipped: [])

    init(keys: [PublicKey], skipped: [String]) {
        self.keys = keys
        self.skipped = skipped
    }

    /// Splits on the BEGIN marker as upstream does, so stray text between blocks is harmless.
    public init(pem text: String) {
        let marker = "-----BEGIN CERTIFICATE-----"
        var keys: [PublicKey] = []
        var skipped: [String] = []
        for (position, block) in text.components(separatedBy: marker).enumerated() {
            let body = block.trimmingCharacters(in: .whitespacesAndNewlines)
            if body.isEmpty { continue }
            let pem = marker + "\n" + body + "\n"
            do {
                keys.append(try Self.publicKey(ofCertificatePEM: pem))
            } catch {
                skipped.append("certificate #\(position) ignored: \(error)")
            }
        }
        self.init(keys: keys, skipped: skipped)
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// Whether the base64 `signature` of these exact `info` bytes verifies against any key.
    /// Whitespace in the base64 is ignored (older entries wrap it every 76 characters).
    public func verifies(info: String, signature: String) -> Bool {
        let compact = signature.filter { !$0.isWhitespace }
        guard !compact.isEmpty, let bytes = Data(base64Encoded: compact) else { return false }
        let message = Array(info.utf8)
        let signatureBytes = Array(bytes)
        return keys.contains { $0.verifies(signature: signatureBytes, over: message) }
    }

    /// Whether a certificate in the list holds the public half of `key`.
    public func contains(publicKeyOf key: SigningKey) -> Bool {
        keys.contains { $0.matches(key.key) }
    }

    static func publicKey(ofCertificatePEM pem: String) throws -> PublicKey {
        try withMemoryBIO(Array(pem.utf8)) { bio in
            guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else {
                throw OpenSSLError("not a PEM certificate")
            }
            defer { X509_free(certificate) }
            guard let key = X509_get_pubkey(certificate) else { throw OpenSSLError("certificate without a public key") }
            return PublicKey(owning: key)
        }
    }
}
