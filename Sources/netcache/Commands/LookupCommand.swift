import ArgumentParser
import BinaryCache
import NetcacheProtocol

struct LookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up what the caches hold.",
        subcommands: [BinarySR.self, LookupURLCommand.self, LookupPyPICommand.self]
    )

    struct BinarySR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "binary-sr",
            abstract: "List every binary-cache entry of a software release (like slapos cachelookup binary-sr).",
            discussion: """
                Both keys are listed: netcache:<md5> (a chunk index, or a zstd tar from earlier \
                versions) and <md5> (legacy gzip). For each entry: whether it is trusted, or why not \
                (signature, expired, revoked, out of scope, below threshold, stale timestamp, \
                rollback), whether it names this release (an entry of another release filed under \
                this key never installs), whether it suits this machine under the rule in force and \
                under the abi rule (binary-cache-compatibility), and why install would not take it. \
                With --json, fetch_bytes says what an install here would download: for a chunk \
                index, the index and the chunks that neither the chunk cache nor the releases \
                installed from chunk indexes hold (the index is fetched to tell; null for an entry \
                that would not install).
                """
        )

        @OptionGroup var options: BinaryCacheOptions

        @Argument(help: ArgumentHelp("Software release URL, or the MD5 of it.", valueName: "URL_OR_MD5"))
        var release: String

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let lookup = try Lookup(settings: options.settings())
            for line in lookup.skippedCertificates { printWarning(line) }
            if let refusal = lookup.refusesEverything { printWarning("nothing is trusted: \(refusal)") }
            let isMD5 = release.count == 32 && release.allSatisfy(\.isHexDigit)
            let candidates = try isMD5 ? lookup.entries(md5: release.lowercased()) : lookup.entries(softwareURL: release)
            if json {
                let rows = candidates.map { candidate -> JSONValue in
                    let fetch = (try? lookup.bytesToFetch(candidate)) ?? nil
                    return .object(JSONObject([
                        ("key", .string(candidate.key)),
                        ("sha512", .string(candidate.entry.sha512)),
                        ("format", .string(candidate.entry.format.rawValue)),
                        ("multiarch", .string(candidate.entry.multiarch)),
                        ("distribution", .string(candidate.entry.os[0])),
                        ("version", .string(candidate.entry.os[1])),
                        ("codename", .string(candidate.entry.os[2])),
                        ("size", candidate.entry.size.map(JSONValue.integer) ?? .null),
                        ("fetch_bytes", fetch.map(JSONValue.integer) ?? .null),
                        ("software_url", .string(candidate.entry.softwareURL)),
                        ("same_release", .bool(candidate.namesRelease)),
                        ("compatible", .bool(candidate.compatibility.isCompatible)),
                        ("verified", .bool(candidate.verified)),
                        ("signers", .array((candidate.trust.signers ?? []).map(JSONValue.string))),
                        ("signatures", .integer(candidate.statement.signatures.count)),
                        ("signed_at", candidate.statement.fields?["signed_at"] ?? .null),
                        ("expires", candidate.statement.fields?["expires"] ?? .null),
                        ("refusal", candidate.refusal.map(JSONValue.string) ?? .null),
                        ("relocated_from", candidate.installable ? candidate.relocatedFrom.map(JSONValue.string) ?? .null : .null),
                        ("rules", .object(JSONObject(CompatibilityRule.allCases.map { rule in
                            let decision = candidate.byRule[rule]
                            return (key: rule.rawValue, value: .object(JSONObject([
                                ("compatible", .bool(decision?.isCompatible ?? false)),
                                ("why_not", decision?.reason.map(JSONValue.string) ?? .null),
                            ])))
                        }))),
                    ]))
                }
                try printFlushed(JSONValue.array(rows).pythonIndentedSortedJSON)
                return
            }
            guard !candidates.isEmpty else {
                try printFlushed("no binary-cache entry for \(release)")
                return
            }
            let header = ["key", "format", "multiarch", "distribution", "version", "codename", "size", "release?", "compatible?", "by abi?", "verified?", "relocate?", "why not"]
            let rows = candidates.map { candidate in
                [
                    candidate.key, candidate.entry.format.rawValue, candidate.entry.multiarch, candidate.entry.os[0],
                    candidate.entry.os[1], candidate.entry.os[2], candidate.entry.size.map(String.init) ?? "-",
                    candidate.namesRelease ? "yes" : "no", candidate.compatibility.isCompatible ? "yes" : "no",
                    candidate.byRule[.abi]?.isCompatible == true ? "yes" : "no", candidate.verified ? "yes" : "no",
                    candidate.installable ? (candidate.relocatedFrom == nil ? "no" : "yes") : "-", candidate.refusal ?? "-",
                ]
            }
            try printTable(header: header, rows: rows)
        }
    }
}
