import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// A private key that signs shadir entries (`signature-private-key-file`) or trust
/// documents (`--root-key`, `--key`): RSA or Ed25519.
public final class SigningKey: @unchecked Sendable {
    let key: OpaquePointer
    /// The key's public half, as certificates and trust documents name it.
    public let publicKey: PublicKey

    public convenience init(pemFile path: String) throws {
        let pem: [UInt8]
        do {
            pem = try fileContents(path)
        } catch {
            throw OpenSSLError("cannot read signature key \(path): \(error)")
        }
        try self.init(pem: pem, origin: path)
    }

    public convenience init(pem: [UInt8], origin: String = "signature key") throws {
        let key = try withMemoryBIO(pem) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                throw OpenSSLError("cannot load private key \(origin)")
            }
            return key
        }
        try self.init(owning: key)
    }

    init(owning key: OpaquePointer) throws {
        self.key = key
        do {
            guard EVP_PKEY_up_ref(key) == 1 else { throw OpenSSLError("cannot share a key") }
            publicKey = try PublicKey(owning: key)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }

    deinit {
        EVP_PKEY_free(key)
    }

    public var isEd25519: Bool { publicKey.isEd25519 }

    /// The scheme this key signs entries filed under `key` with: RSA-SHA1 where the Python
    /// tools read them, else the key's modern one.
    public func scheme(for key: String) throws -> SignatureScheme {
        if SignatureScheme.isNetcacheKey(key) { return isEd25519 ? .ed25519 : .rsaPSSSHA256 }
        guard !isEd25519 else {
            throw OpenSSLError("an Ed25519 key cannot sign \(key): the SlapOS Python tools read it and verify RSA-SHA1 only; sign it with an RSA key")
        }
        return .rsaSHA1
    }

    public func sign(_ message: [UInt8], scheme: SignatureScheme) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        let started: Bool
        switch (scheme, isEd25519) {
        case (.ed25519, true):
            started = EVP_DigestSignInit(context, nil, nil, nil, key) == 1
        case (.rsaSHA1, false):
            started = EVP_DigestSignInit(context, nil, EVP_sha1(), nil, key) == 1
        case (.rsaPSSSHA256, false):
            started = EVP_DigestSignInit(context, &keyContext, EVP_sha256(), nil, key) == 1
                && keyContext.map { netcache_EVP_PKEY_CTX_use_rsa_pss($0) == 1 } == true
        default:
            throw OpenSSLError("a\(isEd25519 ? "n Ed25519" : "n RSA") key cannot sign with \(scheme.rawValue)")
        }
        guard started else { throw OpenSSLError("cannot start signing") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else { throw OpenSSLError("cannot sign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else { throw OpenSSLError("cannot sign") }
        return Array(signature.prefix(length))
    }

    /// The base64 signature of an `info` string filed under `key`, as shadir stores it.
    public func signature(of info: String, under key: String) throws -> String {
        Data(try sign(Array(info.utf8), scheme: scheme(for: key))).base64EncodedString()
    }

    public func privateKeyPEM() throws -> String {
        try withWritableBIO { bio in
            guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else {
                throw OpenSSLError("cannot write the private key")
            }
        }
    }
}
