import ArgumentParser
import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol

struct CosignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "Add this machine's signature to a release's binary-cache entries, towards signature-threshold.",
        discussion: """
            Signs, with signature-private-key-file, every entry of the release that a trusted \
            signer already signed and that this key has not: the same info is filed again with \
            the new signature. Nodes with signature-threshold = N install an entry once N \
            distinct trusted signers signed it. Entries no trusted signer signed are left alone: \
            cosigning vouches for what someone trusted built.
            """
    )

    @OptionGroup var options: BinaryCacheOptions

    @Option(help: ArgumentHelp("URL of the software release.", valueName: "url"))
    var softwareURL: String

    func run() throws {
        let settings = try options.settings()
        let cache = try settings.uploadCache()
        guard let key = cache.signingKey else { throw CommandError("signature-private-key-file must be set: it is the key that cosigns") }
        guard cache.shadir.downloadURL != nil, cache.shadir.uploadURL != nil else {
            throw CommandError("upload-binary-dir-url (and download-binary-dir-url to read from) must be set in [networkcache]")
        }
        // One trusted signature makes an entry worth cosigning: the threshold is what is missing.
        let trust = try cache.entryTrust(emptyListTrustsAll: false, threshold: 1)
        if let refusal = trust.refusesEverything { throw CommandError("nothing to cosign: \(refusal)") }
        let now = Date()
        let md5 = BinaryEntry.legacyKey(softwareURL: softwareURL)
        var cosigned = 0
        var already = 0
        for shadirKey in ["netcache:" + md5, md5] {
            for statement in SignedStatement.group(try cache.shadir.entries(for: shadirKey), under: shadirKey) {
                guard statement.fields?["software_url"]?.stringValue == softwareURL, case .trusted(let signers) = trust.verdict(on: statement, at: now) else { continue }
                if signers.contains(key.publicKey.keyID) {
                    already += 1
                    continue
                }
                // An Ed25519 key cannot sign the legacy key's entries; those stay as they are.
                guard let signature = try? key.signature(of: statement.info, under: shadirKey) else { continue }
                try cache.shadir.put(ShadirEntry(info: statement.info, signature: signature), under: shadirKey)
                cosigned += 1
                try printFlushed("cosigned \(shadirKey) \(statement.fields?["sha512"]?.stringValue?.prefix(12) ?? "")")
            }
        }
        guard cosigned + already > 0 else { throw CommandError("no entry of \(softwareURL) signed by a trusted signer to cosign") }
        try printFlushed("\(cosigned) entr\(cosigned == 1 ? "y" : "ies") cosigned, \(already) already signed by this key")
    }
}
