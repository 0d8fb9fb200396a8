import ArgumentParser
import Foundation
import NetcacheClient

struct TrustTimestampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "Sign that the current trust document is current, for --valid (run from a timer).",
        discussion: """
            The key must be delegated with --role timestamp. Nodes trust nothing once the newest \
            timestamp expired, so run it well within --valid: the netcache-trust-timestamp \
            systemd timer shipped with the package runs it every hour with --valid 1d.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: ArgumentHelp("The timestamp signer's private key.", valueName: "key.pem"))
    var key: String

    @Option(help: ArgumentHelp("How long the timestamp holds: 30s, 15m, 12h, 7d.", valueName: "duration"))
    var valid: DurationArgument

    func run() throws {
        let publisher = try TrustPublisher(configuration: client.loadConfiguration())
        let stamp = try publisher.timestamp(key: try SigningKey(pemFile: key), valid: valid.duration, at: Date())
        try printFlushed("timestamp of trust document version \(stamp.documentVersion) valid until \(TrustDate.format(stamp.expires))")
    }
}
