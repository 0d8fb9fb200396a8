import Foundation
import NetcacheClient
import NetcacheProtocol

/// Every entry of a download-cache key, trusted or not, as `lookup url` and `lookup pypi`
/// show them (like `slapos cache-lookup`).
struct DownloadEntries {
    let key: String
    /// Each `info` once, with every signature filed for it.
    let entries: [SignedStatement]
    let verdicts: [TrustVerdict]

    init(key: String, cache: NetworkCache) throws {
        self.key = key
        entries = SignedStatement.group(try cache.shadir.entries(for: key), under: key)
        // As `download` and `fetch` decide: every entry when no list nor root is set, as upstream.
        let trust = try cache.entryTrust(emptyListTrustsAll: true)
        let now = Date()
        verdicts = entries.map { trust.verdict(on: $0, at: now) }
    }

    /// Prints the entries as a table with `field` (`url`, `basename`) as a column, or as JSON.
    func print(field: String, json: Bool) throws {
        if json {
            let rows = zip(entries, verdicts).map { entry, verdict -> JSONValue in
                let fields = entry.fields
                return .object(JSONObject([
                    ("key", .string(key)),
                    ("sha512", fields?["sha512"] ?? .null),
                    (field, fields?[field] ?? .null),
                    ("trusted", .bool(verdict.isTrusted)),
                    ("why_not", verdict.refusal.map(JSONValue.string) ?? .null),
                    ("info", .string(entry.info)),
                ]))
            }
            try printFlushed(JSONValue.array(rows).pythonIndentedSortedJSON)
            return
        }
        guard !entries.isEmpty else {
            try printFlushed("no entry under \(key)")
            return
        }
        try printFlushed("key: \(key)")
        let rows = zip(entries, verdicts).map { entry, verdict in
            let fields = entry.fields
            return [
                fields?["sha512"]?.stringValue ?? "(info is not a JSON object)", fields?[field]?.stringValue ?? "-",
                verdict.isTrusted ? "yes" : "no", verdict.refusal ?? "-",
            ]
        }
        try printTable(header: ["sha512", field, "trusted?", "why not"], rows: rows)
    }
}
