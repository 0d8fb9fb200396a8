import ArgumentParser
import Foundation
import NetcacheClient

/// `-c slapos.cfg --root-key KEY...`: what every command that changes the document needs.
struct RootKeyOptions: ParsableArguments {
    @OptionGroup var client: ClientOptions

    @Option(name: .customLong("root-key"), help: ArgumentHelp("A root's private key to sign with (repeatable, for a threshold).", valueName: "key.pem"))
    var rootKeys: [String] = []

    func publisher() throws -> TrustPublisher {
        try TrustPublisher(configuration: client.loadConfiguration())
    }

    /// The keys, each checked to be a root of `roots` (the current or new document's, or
    /// signature-root-list before the first).
    func keys(rootsOf lists: [CertificateList]) throws -> [SigningKey] {
        guard !rootKeys.isEmpty else { throw ValidationError("give --root-key") }
        return try rootKeys.map { path in
            let key = try SigningKey(pemFile: path)
            guard lists.contains(where: { $0.keys.contains { $0.keyID == key.publicKey.keyID } }) else {
                throw CommandError("--root-key \(path) is not a root of the trust document (signature-root-list)")
            }
            return key
        }
    }

    /// Says what the filed document still lacks.
    func report(_ filed: TrustPublisher.Filed) throws {
        if filed.isComplete {
            try printFlushed("trust document version \(filed.version) published")
            return
        }
        try printFlushed("trust document version \(filed.version) filed, but nodes ignore it until more roots sign it (`netcache trust sign`): "
            + "\(filed.previousRoots.signed) of the \(filed.previousRoots.needed) signatures of the current roots, "
            + "\(filed.ownRoots.signed) of the \(filed.ownRoots.needed) of its own roots")
    }
}
