import COpenSSL
import NetcacheProtocol
import FoundationEssentials

/// The private key that signs shadir entries (`signature-private-key-file`).
public final class SigningKey: @unchecked Sendable {
    let key: OpaquePointer

    public convenience init(pemFile path: String) throws {
        let pem: [UInt8]
        do {
            pem = try fileContents(path)
        } catch {
            throw OpenSSLError("cannot read signature key \(path): \(error)")
        }
        try self.init(pem: pem, origin: path)
    }

    public init(pem: [UInt8], origin: String = "signature key") throws {
        key = try withMemoryBIO(pem) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                throw OpenSSLError("cannot load private key \(origin)")
            }
            return key
        }
    }

    init(owning key: OpaquePointer) {
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// RSA PKCS#1 v1.5 over SHA-1, what `openssl dgst -sha1 -sign` produces.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha1(), nil, key) == 1 else { throw OpenSSLError("cannot start signing") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else { throw OpenSSLError("cannot sign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else { throw OpenSSLError("cannot sign") }
        return Array(signature.prefix(length))
    }

    /// The base64 signature of an `info` string, as shadir stores it.
    public func signature(of info: String) throws -> String {
        Data(try sign(Array(info.utf8))).base64EncodedString()
    }

    public func privateKeyPEM() throws -> String {
        try withWritableBIO { bio in
            guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else {
                throw OpenSSLError("cannot write the private key")
            }
        }
    }
}
