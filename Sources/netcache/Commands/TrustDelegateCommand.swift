import ArgumentParser
import Foundation
import NetcacheClient

struct TrustDelegateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate",
        abstract: "Delegate to a signer (or renew it): publish the next version of the roots' document.",
        discussion: """
            A sign signer's entries are trusted for software URLs (download URLs, keys) under \
            one of its --scope prefixes (every URL without one), until --expires. A timestamp \
            signer only runs `netcache trust timestamp`; once one is delegated, nodes trust \
            nothing without a fresh timestamp. A revoked signer is never delegated to again.
            """
    )

    @OptionGroup var roots: RootKeyOptions

    @Option(help: ArgumentHelp("The signer's certificate (netcache keygen --cert-file).", valueName: "cert.pem"))
    var signer: String

    @Option(help: ArgumentHelp("Until when its signatures count.", valueName: "date"))
    var expires: DateArgument

    @Option(help: ArgumentHelp("A URL prefix it may sign for (repeatable).", valueName: "url-prefix"))
    var scope: [String] = []

    @Option(help: "sign: entries; timestamp: timestamps only.")
    var role: TrustRole = .sign

    func run() throws {
        let now = Date()
        guard expires.date > now else { throw CommandError("--expires \(TrustDate.format(expires.date)) is in the past") }
        let certificate = try signerCertificate(signer)
        let publisher = try roots.publisher()
        let next = try publisher.next(at: now) { document in
            if document.revokedSigners.keys.contains(where: { $0.keyID == certificate.key.keyID }) {
                throw CommandError("\(signer) was revoked by an earlier version; make a new key")
            }
            if document.roots.keys.contains(where: { $0.keyID == certificate.key.keyID }) {
                throw CommandError("\(signer) is a root: roots sign trust documents only; delegate to an online key")
            }
            let delegated = try DelegatedSigner(certificate: certificate.pem, role: role, scopes: scope, expires: expires.date)
            document.signers.removeAll { $0.key.keyID == certificate.key.keyID }
            document.signers.append(delegated)
        }
        let keys = try roots.keys(rootsOf: [next.previous?.roots ?? publisher.settings.roots])
        try roots.report(try publisher.publish(next.document, previous: next.previous, rootKeys: keys))
    }
}
