import COpenSSL
import Foundation
import NetcacheProtocol

/// The CA that signs uploaders' TLS client certificates, checked with OpenSSL per request.
///
/// The TLS handshake accepts any client certificate (or none), so that a stranger can still
/// download and an uploader with a bad certificate gets a clean 403 instead of a failed
/// handshake; this check decides whether the certificate authorises uploads.
public final class ClientCertificateAuthority: @unchecked Sendable {
    private let store: OpaquePointer

    public init(caFile: String) throws {
        guard let store = X509_STORE_new() else { throw ServerConfigurationError("OpenSSL cannot allocate a certificate store") }
        self.store = store
        guard X509_STORE_load_file(store, caFile) == 1 else {
            throw ServerConfigurationError("cannot load client CA file \(caFile): \(OpenSSLError("X509_STORE_load_file"))")
        }
    }

    deinit {
        X509_STORE_free(store)
    }

    /// Whether the DER certificate chains up to this CA. Expiry is checked too: an expired
    /// uploader certificate no longer authorises uploads.
    public func verifies(certificateDER der: [UInt8]) -> Bool {
        let certificate: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate else { return false }
        defer { X509_free(certificate) }
        guard let context = X509_STORE_CTX_new() else { return false }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, certificate, nil) == 1 else { return false }
        let verified = X509_verify_cert(context) == 1
        ERR_clear_error()
        return verified
    }
}
