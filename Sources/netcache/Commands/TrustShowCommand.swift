import ArgumentParser
import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol

struct TrustShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the trust document a node of this configuration sees, and whether it holds.",
        discussion: """
            Reads the binary cache's shadir (the download cache's when no binary one is set), \
            follows the roots' chain from this node's trust state without changing it, and \
            prints the roots, signers, scopes, expiries, revocations, version and freshness.
            """
    )

    @OptionGroup var client: ClientOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let configuration = try client.loadConfiguration()
        let binary = configuration.downloadBinaryDirURL != nil
        let cache = binary ? try BinaryCacheSettings(network: configuration).downloadCache() : try NetworkCache(configuration: configuration)
        let settings = cache.trustSettings
        guard !settings.roots.isEmpty else { throw CommandError("signature-root-list is empty: this node trusts signature-certificate-list flatly") }
        let now = Date()
        let resolved = try TrustChain(settings: settings) { key in try cache.shadir.entries(for: key) }.resolve(at: now, remember: false)
        if json {
            try printFlushed(Self.json(resolved, settings: settings, now: now).pythonIndentedSortedJSON)
        } else {
            try printFlushed(Self.text(resolved, settings: settings, now: now))
        }
    }

    static func json(_ resolved: ResolvedTrust, settings: TrustSettings, now: Date) -> JSONValue {
        let document = resolved.document
        return .object(JSONObject([
            ("chain", .string(resolved.chainID)),
            ("version", document.map { .integer($0.version) } ?? .null),
            ("issued_at", document.map { .string(TrustDate.format($0.issuedAt)) } ?? .null),
            ("roots", .array((document?.rootKeyIDs ?? settings.roots.keys.map(\.keyID)).map(JSONValue.string))),
            ("root_threshold", .integer(document?.rootThreshold ?? settings.rootThreshold)),
            ("signers", .array((document?.signers ?? []).map { signer in
                .object(JSONObject([
                    ("key_id", .string(signer.key.keyID)),
                    ("role", .string(signer.role.rawValue)),
                    ("scopes", .array(signer.scopes.map(JSONValue.string))),
                    ("expires", .string(TrustDate.format(signer.expires))),
                    ("expired", .bool(signer.expires <= now)),
                ]))
            })),
            ("revoked_signers", .array((document?.revokedSigners.keys ?? []).map { .string($0.keyID) })),
            ("revoked_entries", .array((document?.revokedEntries ?? []).map(JSONValue.string))),
            ("timestamp", resolved.timestamp.map { stamp in
                .object(JSONObject([
                    ("document_version", .integer(stamp.documentVersion)),
                    ("issued_at", .string(TrustDate.format(stamp.issuedAt))),
                    ("expires", .string(TrustDate.format(stamp.expires))),
                ]))
            } ?? .null),
            ("entry_threshold", .integer(settings.threshold)),
            ("remembered_version", resolved.rememberedVersion.map(JSONValue.integer) ?? .null),
            ("trusted", .bool(resolved.refusal == nil)),
            ("refusal", resolved.refusal.map(JSONValue.string) ?? .null),
        ]))
    }

    static func text(_ resolved: ResolvedTrust, settings: TrustSettings, now: Date) -> String {
        var lines: [String] = []
        if let document = resolved.document {
            lines.append("trust document version \(document.version), issued \(TrustDate.format(document.issuedAt))")
            lines.append("roots (\(document.rootThreshold) of \(document.roots.keys.count) sign the next version):")
            lines += document.rootKeyIDs.map { "  \($0)" }
            lines.append("signers:" + (document.signers.isEmpty ? " none" : ""))
            for signer in document.signers {
                let scopes = signer.scopes.isEmpty ? "every URL" : signer.scopes.joined(separator: " ")
                let state = signer.expires <= now ? "EXPIRED " : ""
                lines.append("  \(signer.key.keyID) \(signer.role.rawValue), \(state)until \(TrustDate.format(signer.expires)), for \(scopes)")
            }
            lines.append("revoked signers:" + (document.revokedSigners.keys.isEmpty ? " none" : ""))
            lines += document.revokedSigners.keys.map { "  \($0.keyID)" }
            lines.append("revoked entries:" + (document.revokedEntries.isEmpty ? " none" : ""))
            lines += document.revokedEntries.map { "  \($0)" }
            if let stamp = resolved.timestamp {
                lines.append("timestamp: version \(stamp.documentVersion), issued \(TrustDate.format(stamp.issuedAt)), valid until \(TrustDate.format(stamp.expires))")
            } else if !document.signers.contains(where: { $0.role == .timestamp }) {
                lines.append("timestamp: not required (no timestamp signer delegated)")
            }
        }
        lines.append("entries need \(settings.threshold) trusted signature(s)")
        if let remembered = resolved.rememberedVersion { lines.append("this node accepted version \(remembered) before") }
        lines.append(resolved.refusal.map { "nothing is trusted: \($0)" } ?? "trusted: yes")
        return lines.joined(separator: "\n")
    }
}
