import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// A public key from a certificate: RSA (1024-bit keys are accepted: upstream made them
/// for years) or Ed25519.
public final class PublicKey: @unchecked Sendable {
    let key: OpaquePointer
    /// SHA-256 of the key's SubjectPublicKeyInfo, in hex: how trust documents name it.
    public let keyID: String

    /// Takes ownership of an `EVP_PKEY`.
    init(owning key: OpaquePointer) throws {
        self.key = key
        do {
            keyID = try Self.keyID(of: key)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }

    deinit {
        EVP_PKEY_free(key)
    }

    public var isEd25519: Bool { EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 }

    /// The scheme under which `signature` verifies over `message`, or `nil`. An RSA key is
    /// tried with PSS-SHA256, then PKCS#1 v1.5 SHA-1; the caller's policy decides what counts.
    public func scheme(verifying signature: [UInt8], over message: [UInt8]) -> SignatureScheme? {
        if isEd25519 { return verify(signature, over: message, digest: nil, pss: false) ? .ed25519 : nil }
        if verify(signature, over: message, digest: EVP_sha256(), pss: true) { return .rsaPSSSHA256 }
        if verify(signature, over: message, digest: EVP_sha1(), pss: false) { return .rsaSHA1 }
        return nil
    }

    /// Whether `signature` verifies under any scheme.
    public func verifies(signature: [UInt8], over message: [UInt8]) -> Bool {
        scheme(verifying: signature, over: message) != nil
    }

    private func verify(_ signature: [UInt8], over message: [UInt8], digest: OpaquePointer?, pss: Bool) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, key) == 1 else { return false }
        if pss {
            guard let keyContext, netcache_EVP_PKEY_CTX_use_rsa_pss(keyContext) == 1 else { return false }
        }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    func matches(_ other: OpaquePointer) -> Bool {
        EVP_PKEY_eq(key, other) == 1
    }

    static func keyID(of key: OpaquePointer) throws -> String {
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &der)
        guard length > 0, let der else { throw OpenSSLError("cannot encode a public key") }
        defer { CRYPTO_free(der, #fileID, #line) }
        let digest = StreamingDigest.sha256()
        digest.update(UnsafeRawBufferPointer(start: der, count: Int(length)))
        return digest.finalize()
    }
}
