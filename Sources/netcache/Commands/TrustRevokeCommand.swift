import ArgumentParser
import Foundation
import NetcacheClient
import NetcacheProtocol

struct TrustRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Stop trusting a signer, or one entry: publish the next version of the roots' document.",
        discussion: """
            --signer: every entry it signed stops counting at each node's next lookup, and it is \
            never delegated to again. --entry: the entries naming this SHA-512 stop counting, \
            whoever signed them.
            """
    )

    @OptionGroup var roots: RootKeyOptions

    @Option(help: ArgumentHelp("The certificate of the signer to revoke.", valueName: "cert.pem"))
    var signer: String?

    @Option(help: ArgumentHelp("The sha512 of an entry to revoke.", valueName: "sha512"))
    var entry: String?

    func run() throws {
        guard (signer == nil) != (entry == nil) else { throw ValidationError("give one of --signer and --entry") }
        if let entry, !isSHA512Hex(entry) { throw ValidationError("--entry: expected 128 hexadecimal characters") }
        let certificate = try signer.map(signerCertificate)
        let publisher = try roots.publisher()
        let next = try publisher.next(at: Date()) { document in
            if let certificate {
                let list = document.revokedSigners
                if !list.keys.contains(where: { $0.keyID == certificate.key.keyID }) {
                    document.revokedSigners = CertificateList(pem: (list.certificates + [certificate.pem]).joined(separator: "\n"))
                }
                document.signers.removeAll { $0.key.keyID == certificate.key.keyID }
            }
            if let entry = entry?.lowercased(), !document.revokedEntries.contains(entry) { document.revokedEntries.append(entry) }
        }
        let keys = try roots.keys(rootsOf: [next.previous?.roots ?? publisher.settings.roots])
        try roots.report(try publisher.publish(next.document, previous: next.previous, rootKeys: keys))
    }
}
