import NetcacheClient
import NetcacheProtocol

/// Every entry of a download-cache key, trusted or not, as `lookup url` and `lookup pypi`
/// show them (like `slapos cache-lookup`).
struct DownloadEntries {
    let key: String
    let entries: [ShadirEntry]
    let trust: CertificateList

    init(key: String, cache: NetworkCache) throws {
        self.key = key
        entries = try cache.shadir.entries(for: key)
        trust = cache.trust
    }

    /// As `download` and `fetch` decide: every entry when the list is empty, as upstream.
    func isTrusted(_ entry: ShadirEntry) -> Bool {
        trust.isEmpty || trust.verifies(info: entry.info, signature: entry.signature)
    }

    /// Prints the entries as a table with `field` (`url`, `basename`) as a column, or as JSON.
    func print(field: String, json: Bool) throws {
        if json {
            let rows = entries.map { entry -> JSONValue in
                let fields = entry.fields
                return .object(JSONObject([
                    ("key", .string(key)),
                    ("sha512", fields?["sha512"] ?? .null),
                    (field, fields?[field] ?? .null),
                    ("trusted", .bool(isTrusted(entry))),
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
        let rows = entries.map { entry in
            let fields = entry.fields
            return [
                fields?["sha512"]?.stringValue ?? "(info is not a JSON object)", fields?[field]?.stringValue ?? "-",
                isTrusted(entry) ? "yes" : "no",
            ]
        }
        try printTable(header: ["sha512", field, "trusted?"], rows: rows)
    }
}
