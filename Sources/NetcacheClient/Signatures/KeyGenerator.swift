import COpenSSL
import NetcacheProtocol
import Foundation

/// Makes a signature key and its self-signed certificate, like upstream's
/// `generate-signature-key` (100 years, `/CN=<name>`), but RSA 3072 by default, or Ed25519
/// for keys that sign only netcache's own entries and trust documents.
public enum KeyGenerator {
    public enum KeyType: String, Sendable, CaseIterable {
        case rsa
        case ed25519
    }

    public struct Generated: Sendable {
        public let privateKeyPEM: String
        public let certificatePEM: String
    }

    public static func generate(commonName: String, type: KeyType = .rsa, bits: Int = 3072) throws -> Generated {
        if type == .rsa { guard bits >= 1024 else { throw OpenSSLError("an RSA key needs at least 1024 bits") } }
        guard let context = EVP_PKEY_CTX_new_id(type == .rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519, nil) else {
            throw OpenSSLError("cannot start \(type.rawValue) key generation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var generated: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
            type == .ed25519 || netcache_EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1,
            EVP_PKEY_keygen(context, &generated) == 1, let generated
        else { throw OpenSSLError("cannot generate an \(type.rawValue) key") }
        let key = try SigningKey(owning: generated)

        guard let certificate = X509_new() else { throw OpenSSLError("cannot allocate a certificate") }
        defer { X509_free(certificate) }
        var serial = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&serial, Int32(serial.count)) == 1 else { throw OpenSSLError("no randomness for a serial number") }
        serial[0] &= 0x7F
        guard let serialNumber = BN_bin2bn(serial, Int32(serial.count), nil) else { throw OpenSSLError("cannot make a serial number") }
        defer { BN_free(serialNumber) }
        let hundredYears = 36500 * 24 * 3600
        guard let name = X509_get_subject_name(certificate),
            X509_set_version(certificate, 2) == 1,
            BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(certificate)) != nil,
            X509_gmtime_adj(X509_getm_notBefore(certificate), 0) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), hundredYears) != nil,
            X509_set_pubkey(certificate, key.key) == 1,
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
            X509_set_issuer_name(certificate, name) == 1,
            // Ed25519 signs the message itself: no digest is named.
            X509_sign(certificate, key.key, type == .rsa ? EVP_sha256() : nil) > 0
        else { throw OpenSSLError("cannot make the certificate") }

        let certificatePEM = try withWritableBIO { bio in
            guard PEM_write_bio_X509(bio, certificate) == 1 else { throw OpenSSLError("cannot write the certificate") }
        }
        return Generated(privateKeyPEM: try key.privateKeyPEM(), certificatePEM: certificatePEM)
    }
}
