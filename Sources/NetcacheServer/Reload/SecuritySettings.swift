import Logging
import NIOSSL
import NetcacheClient

/// What the server reads from the files that decide trust: its TLS identity, the client CA
/// and its CRLs, the basic auth users and the certificates shadir entries must be signed by.
///
/// Read whole at start-up and again on SIGHUP; either every file loads or none is used.
struct SecuritySettings: Sendable {
    /// The context new TLS connections get; `nil` without `--tls-cert`.
    let tls: NIOSSLContext?
    let clientCA: ClientCertificateAuthority?
    let basicAuth: HtpasswdFile?
    let trust: CertificateList?

    init(configuration: ServerConfiguration, logger: Logger) throws {
        tls = try Self.loadTLS(configuration)
        clientCA = try configuration.clientCAFile.map { file in
            try ClientCertificateAuthority(caFile: file, crlFiles: configuration.clientCRLFiles) { logger.warning("\($0)") }
        }
        basicAuth = try configuration.basicAuthFile.map(HtpasswdFile.init(path:))
        trust = try configuration.trustedCertificatesFile.map { try Self.loadTrust($0, logger: logger) }
    }

    private static func loadTLS(_ configuration: ServerConfiguration) throws -> NIOSSLContext? {
        guard let certificateFile = configuration.tlsCertificateFile, let keyFile = configuration.tlsKeyFile else { return nil }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        // Read here, parsed by NIOSSL: a file that cannot be read gets the system's reason,
        // not SwiftNIO's error names.
        let (certificateBytes, keyBytes) = (try readTLSFile(certificateFile, option: "--tls-cert"), try readTLSFile(keyFile, option: "--tls-key"))
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw ServerConfigurationError("--tls-cert \(certificateFile): not a PEM certificate")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw ServerConfigurationError("--tls-key \(keyFile): not a PEM private key")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if configuration.clientCAFile != nil {
            // Ask for a client certificate without requiring one: PresentedCertificateChain
            // lets every client in, and the access policy decides per request.
            tls.certificateVerification = .optionalVerification
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw ServerConfigurationError("cannot use --tls-cert \(certificateFile) with --tls-key \(keyFile): is it the certificate's key?")
        }
    }

    private static func readTLSFile(_ path: String, option: String) throws -> [UInt8] {
        do {
            return try fileContents(path)
        } catch {
            throw ServerConfigurationError("cannot read \(option) \(path): \(error)")
        }
    }

    /// `--trusted-certificates`: at least one certificate; what does not parse is said.
    private static func loadTrust(_ path: String, logger: Logger) throws -> CertificateList {
        let text: String
        do {
            text = try fileText(path)
        } catch {
            throw ServerConfigurationError("cannot read --trusted-certificates \(path): \(error)")
        }
        let trust = CertificateList(pem: text)
        guard !trust.isEmpty else {
            throw ServerConfigurationError("--trusted-certificates \(path): no certificate in it" + (trust.skipped.first.map { " (\($0))" } ?? ""))
        }
        for skipped in trust.skipped { logger.warning("--trusted-certificates \(path): \(skipped)") }
        return trust
    }
}
