import ArgumentParser

struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Publish and inspect the roots' trust document: delegations, revocations, timestamps.",
        discussion: """
            Roots (signature-root-list) are keys kept offline. Each change is a new version of \
            their document, signed by enough roots (root_threshold) and filed in every cache \
            [networkcache] uploads to, under netcache-trust:<key id> of each root. Nodes with \
            signature-root-list set trust the entries of the signers it delegates to, within \
            their scopes and until they expire, and nothing once its newest timestamp expired \
            or when a cache serves an older document than one they accepted.
            """,
        subcommands: [
            TrustDelegateCommand.self, TrustRevokeCommand.self, TrustRootsCommand.self, TrustSignCommand.self,
            TrustTimestampCommand.self, TrustShowCommand.self,
        ]
    )
}
