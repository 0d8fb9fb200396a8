import NetcacheClient

/// `--signer CERT`: one certificate.
func signerCertificate(_ path: String) throws -> (pem: String, key: PublicKey) {
    let text: String
    do {
        text = try fileText(path)
    } catch {
        throw CommandError("cannot read --signer \(path): \(error)")
    }
    let list = CertificateList(pem: text)
    guard list.keys.count == 1 else {
        throw CommandError("--signer \(path): expected one PEM certificate, found \(list.keys.count)" + (list.skipped.first.map { " (\($0))" } ?? ""))
    }
    return (list.certificates[0], list.keys[0])
}
