import COpenSSL
import Foundation
import NetcacheProtocol

/// The CA that signs uploaders' TLS client certificates, and the revocation lists that
/// withdraw them, checked with OpenSSL per request.
///
/// The TLS handshake accepts any client certificate (or none), so that a stranger can still
/// download and an uploader with a bad certificate gets a clean 403 instead of a failed
/// handshake; this check decides whether the certificate authorises uploads. Checking per
/// request, not per connection, means a certificate revoked by a reload stops uploading on
/// connections that were already open.
public final class ClientCertificateAuthority: @unchecked Sendable {
    /// Immutable once built: OpenSSL verifies against one store from many threads.
    private let store: OpaquePointer
    private let checksRevocation: Bool

    /// What a chain was found to be.
    public enum Verdict: Equatable, Sendable {
        /// With the certificate's subject, e.g. "/CN=builder-1", for the access log.
        case trusted(subject: String)
        /// OpenSSL's reason, e.g. "certificate revoked".
        case refused(String)
    }

    /// - Parameters:
    ///   - caFile: PEM certificates of the CAs trusted to issue uploaders' certificates.
    ///   - crlFiles: PEM files of CRLs, several in a file allowed. Once any is given, a
    ///     certificate whose issuer has no CRL here is refused (its revocation cannot be
    ///     known); the CRLs of CAs further up are checked when given.
    ///   - warn: told of CRLs whose next update is past (every certificate they cover is
    ///     refused until a fresh one is loaded).
    public init(caFile: String, crlFiles: [String] = [], warn: (String) -> Void = { _ in }) throws {
        guard let store = X509_STORE_new() else { throw ServerConfigurationError("OpenSSL cannot allocate a certificate store") }
        self.store = store
        checksRevocation = !crlFiles.isEmpty
        guard X509_STORE_load_file(store, caFile) == 1 else {
            throw ServerConfigurationError("cannot load client CA file \(caFile): \(OpenSSLError("X509_STORE_load_file"))")
        }
        for file in crlFiles {
            try Self.addRevocationLists(from: file, to: store, warn: warn)
        }
        // A server or code-signing certificate of the same CA is not an uploader's.
        X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT)
        if checksRevocation {
            X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
        }
    }

    deinit {
        X509_STORE_free(store)
    }

    /// Reads every CRL of a PEM file; a file with none, or with something else that does
    /// not parse, is an error rather than a list that revokes nothing.
    private static func addRevocationLists(from file: String, to store: OpaquePointer, warn: (String) -> Void) throws {
        guard let bio = BIO_new_file(file, "r") else {
            throw ServerConfigurationError("cannot read --client-crl \(file): \(OpenSSLError("BIO_new_file"))")
        }
        defer { BIO_free(bio) }
        var count = 0
        ERR_clear_error()
        while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) {
            defer { X509_CRL_free(crl) }
            count += 1
            guard X509_STORE_add_crl(store, crl) == 1 else {
                throw ServerConfigurationError("--client-crl \(file): \(OpenSSLError("X509_STORE_add_crl"))")
            }
            if let nextUpdate = X509_CRL_get0_nextUpdate(crl), X509_cmp_current_time(nextUpdate) < 0 {
                warn("--client-crl \(file): CRL \(count) is past its next update; the certificates it covers are refused until a fresh one is loaded")
            }
        }
        let ending = ERR_peek_last_error()
        guard count > 0, ERR_GET_REASON(ending) == PEM_R_NO_START_LINE || ending == 0 else {
            let reason = count == 0 ? "no CRL in it" : "\(OpenSSLError("after CRL \(count)"))"
            throw ServerConfigurationError("--client-crl \(file): \(reason)")
        }
        ERR_clear_error()
    }

    /// Checks a chain as the client presented it, DER-encoded, its own certificate first and
    /// then the intermediates it sent. Expiry and the `sslclient` purpose are checked too.
    public func verify(chain: [[UInt8]]) -> Verdict {
        guard let leafDER = chain.first, let leaf = Self.certificate(fromDER: leafDER) else {
            return .refused("client certificate does not parse")
        }
        defer { X509_free(leaf) }
        guard let intermediates = netcache_x509_stack_new() else { return .refused("OpenSSL cannot allocate a stack") }
        defer { netcache_x509_stack_free(intermediates) }
        for der in chain.dropFirst() {
            guard let certificate = Self.certificate(fromDER: der) else { return .refused("an intermediate certificate does not parse") }
            guard netcache_x509_stack_push(intermediates, certificate) > 0 else {
                X509_free(certificate)
                return .refused("OpenSSL cannot grow a stack")
            }
        }
        guard let context = X509_STORE_CTX_new() else { return .refused("OpenSSL cannot allocate a verification context") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf, intermediates) == 1 else {
            return .refused("\(OpenSSLError("X509_STORE_CTX_init"))")
        }
        if checksRevocation {
            X509_STORE_CTX_set_verify_cb(context) { ok, context in
                // CRL_CHECK_ALL wants a CRL for every CA of the chain; only the issuer's is
                // required (see init), the others count when given.
                guard ok == 0, let context, X509_STORE_CTX_get_error(context) == X509_V_ERR_UNABLE_TO_GET_CRL,
                    X509_STORE_CTX_get_error_depth(context) > 0
                else { return ok }
                return 1
            }
        }
        defer { ERR_clear_error() }
        if X509_verify_cert(context) == 1 { return .trusted(subject: Self.subject(of: leaf)) }
        return .refused(String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context)))))
    }

    private static func subject(of certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate), let text = X509_NAME_oneline(name, nil, 0) else { return "?" }
        defer { CRYPTO_free(text, #fileID, Int32(#line)) }
        return String(cString: text)
    }

    private static func certificate(fromDER der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }
}
