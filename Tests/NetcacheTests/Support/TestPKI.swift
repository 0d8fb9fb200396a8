import Foundation

/// Certificate authorities, certificates and CRLs made with the openssl command in a
/// directory: `NAME.pem`, `NAME.key`, and `NAME.crl` for an authority's revocations.
struct TestPKI {
    let directory: URL

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A self-signed root CA.
    func authority(_ name: String) throws {
        try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(name)",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", path("\(name).key"), "-out", path("\(name).pem"))
        try database(of: name)
    }

    /// A CA signed by another.
    func intermediate(_ name: String, signedBy ca: String) throws {
        try certificate(name, signedBy: ca, extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        try database(of: name)
    }

    /// A certificate signed by `ca`; by default an uploader's (no CA, any purpose).
    func certificate(_ name: String, signedBy ca: String, bits: Int = 2048, extensions: String = "basicConstraints=CA:FALSE\n") throws {
        try openssl("req", "-newkey", "rsa:\(bits)", "-nodes", "-subj", "/CN=\(name)", "-keyout", path("\(name).key"), "-out", path("\(name).csr"))
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl("x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
                    "-CAcreateserial", "-days", "2", "-extfile", path("\(name).ext"), "-out", path("\(name).pem"))
    }

    /// Writes `name.chain.pem`: the certificate followed by the CAs named, as a client sends them.
    func chain(_ name: String, with authorities: [String]) throws -> String {
        let text = try ([name] + authorities).map { try String(contentsOfFile: path("\($0).pem"), encoding: .utf8) }.joined()
        try text.write(toFile: path("\(name).chain.pem"), atomically: true, encoding: .utf8)
        return path("\(name).chain.pem")
    }

    /// Adds `name` to its authority's revocations; `crl(of:)` publishes them.
    func revoke(_ name: String, by ca: String) throws {
        try openssl("ca", "-config", path("\(ca).cnf"), "-revoke", path("\(name).pem"), "-keyfile", path("\(ca).key"), "-cert", path("\(ca).pem"))
    }

    /// Writes `ca.crl` with every revocation so far and returns its path.
    @discardableResult
    func crl(of ca: String) throws -> String {
        try openssl("ca", "-config", path("\(ca).cnf"), "-gencrl", "-keyfile", path("\(ca).key"), "-cert", path("\(ca).pem"), "-out", path("\(ca).crl"))
        return path("\(ca).crl")
    }

    /// The `openssl ca` database that revocations and CRLs need.
    private func database(of ca: String) throws {
        _ = FileManager.default.createFile(atPath: path("\(ca).index"), contents: nil)
        try "01\n".write(toFile: path("\(ca).crlnumber"), atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = authority
            [authority]
            database = \(path("\(ca).index"))
            crlnumber = \(path("\(ca).crlnumber"))
            default_md = sha256
            default_crl_days = 2
            """.write(toFile: path("\(ca).cnf"), atomically: true, encoding: .utf8)
    }
}
