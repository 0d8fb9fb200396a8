import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// Concatenated PEM certificates: the flat trust list (`signature-certificate-list`), the
/// roots (`signature-root-list`), or the server's `--trusted-certificates`.
///
/// Only the public keys matter and expiry is not checked, as upstream. A certificate that
/// does not parse is reported and skipped, not fatal.
public struct CertificateList: Sendable {
    public let keys: [PublicKey]
    /// Each key's certificate, normalised to one PEM block: what trust documents embed.
    public let certificates: [String]
    /// One line per certificate that was skipped, saying why.
    public let skipped: [String]

    public static let empty = CertificateList(keys: [], certificates: [], skipped: [])

    public init(keys: [PublicKey], certificates: [String], skipped: [String]) {
        self.keys = keys
        self.certificates = certificates
        self.skipped = skipped
    }

    /// Splits on the BEGIN marker as upstream does, so stray text between blocks is harmless.
    public init(pem text: String) {
        let marker = "-----BEGIN CERTIFICATE-----"
        var keys: [PublicKey] = []
        var certificates: [String] = []
        var skipped: [String] = []
        for (position, block) in text.components(separatedBy: marker).enumerated() {
            let body = block.trimmingCharacters(in: .whitespacesAndNewlines)
            if body.isEmpty { continue }
            let pem = marker + "\n" + body + "\n"
            do {
                let parsed = try Self.parse(certificatePEM: pem)
                keys.append(parsed.key)
                certificates.append(parsed.pem)
            } catch {
                skipped.append("certificate #\(position) ignored: \(error)")
            }
        }
        self.init(keys: keys, certificates: certificates, skipped: skipped)
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// Whether the base64 `signature` of these exact `info` bytes verifies against any key,
    /// under any scheme. Whitespace in the base64 is ignored (older entries wrap it every 76
    /// characters).
    public func verifies(info: String, signature: String) -> Bool {
        !signers(of: info, signatures: [signature]).isEmpty
    }

    /// The keys of the list that signed `info`, each once, with the best scheme it used.
    public func signers(of info: String, signatures: [String]) -> [(key: PublicKey, scheme: SignatureScheme)] {
        let message = Array(info.utf8)
        var found: [(key: PublicKey, scheme: SignatureScheme)] = []
        for signature in signatures {
            guard let bytes = ShadirEntry.decodeSignature(signature), !bytes.isEmpty else { continue }
            let signatureBytes = Array(bytes)
            for key in keys {
                guard let scheme = key.scheme(verifying: signatureBytes, over: message) else { continue }
                if let index = found.firstIndex(where: { $0.key.keyID == key.keyID }) {
                    if scheme.isModern { found[index].scheme = scheme }
                } else {
                    found.append((key, scheme))
                }
            }
        }
        return found
    }

    /// Whether a certificate in the list holds the public half of `key`.
    public func contains(publicKeyOf key: SigningKey) -> Bool {
        keys.contains { $0.matches(key.key) }
    }

    /// The certificate's public key, and the certificate written again as one clean PEM block.
    static func parse(certificatePEM pem: String) throws -> (key: PublicKey, pem: String) {
        try withMemoryBIO(Array(pem.utf8)) { bio in
            guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else {
                throw OpenSSLError("not a PEM certificate")
            }
            defer { X509_free(certificate) }
            guard let key = X509_get_pubkey(certificate) else { throw OpenSSLError("certificate without a public key") }
            let type = EVP_PKEY_get_base_id(key)
            guard type == EVP_PKEY_RSA || type == EVP_PKEY_ED25519 else {
                EVP_PKEY_free(key)
                throw OpenSSLError("neither an RSA nor an Ed25519 key")
            }
            let publicKey = try PublicKey(owning: key)
            let normalised = try withWritableBIO { bio in
                guard PEM_write_bio_X509(bio, certificate) == 1 else { throw OpenSSLError("cannot write the certificate") }
            }
            return (publicKey, normalised)
        }
    }
}
