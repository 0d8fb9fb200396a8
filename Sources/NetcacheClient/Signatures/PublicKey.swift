import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// An RSA public key that verifies shadir signatures: PKCS#1 v1.5 over SHA-1 of the exact
/// `info` bytes. 1024-bit keys are accepted: upstream made them for years.
public final class PublicKey: @unchecked Sendable {
    let key: OpaquePointer

    /// Takes ownership of an `EVP_PKEY`.
    init(owning key: OpaquePointer) {
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    public func verifies(signature: [UInt8], over message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha1(), nil, key) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    func matches(_ other: OpaquePointer) -> Bool {
        EVP_PKEY_eq(key, other) == 1
    }
}
