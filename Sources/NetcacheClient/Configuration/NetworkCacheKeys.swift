/// Every `[networkcache]` key netcache reads, and those the SlapOS Python tools read there
/// that netcache does not: any other key is most likely misspelt, and a misspelt key means
/// "not configured" (slapgrid then builds from source, say) without a word.
public enum NetworkCacheKeys {
    /// Read by netcache and by slapos.libnetworkcache or slapgrid alike.
    public static let shared: [String] = [
        "download-cache-url", "upload-cache-url", "download-dir-url", "upload-dir-url",
        "download-binary-cache-url", "upload-binary-cache-url", "download-binary-dir-url", "upload-binary-dir-url",
        "signature-private-key-file", "signature-certificate-list",
        "shacache-ca-file", "shacache-cert-file", "shacache-key-file", "shadir-ca-file", "shadir-cert-file", "shadir-key-file",
        "binary-cache-url-blacklist", "upload-to-binary-cache-url-blacklist", "download-from-binary-cache-url-blacklist",
        "download-from-binary-cache-force-url-list",
    ]

    /// netcache's own; the Python tools ignore them.
    public static let netcacheOnly: [String] = [
        "binary-cache-exclude", "binary-cache-legacy-format", "binary-cache-install-sync", "binary-cache-relocate",
        "binary-cache-chunk-cache", "binary-cache-chunk-cache-size", "binary-cache-chunk-connections",
        "binary-cache-compatibility", "binary-cache-connect-timeout", "binary-cache-low-speed-time",
        "signature-root-list", "signature-root-threshold", "signature-threshold", "signature-policy", "trust-state-file",
    ]

    /// One line per key of `[networkcache]` that nobody reads, naming the closest known key
    /// when one is near. A key other values interpolate (`%(base)s`) is read through them.
    public static func warnings(for file: INIFile, origin: String) -> [String] {
        let known = shared + netcacheOnly
        return file.keys(in: "networkcache").filter { !known.contains($0) && !file.interpolates($0, in: "networkcache") }.map { key in
            let hint = Spelling.nearest(to: key, among: known).map { " (did you mean \($0)?)" } ?? ""
            return "\(origin): [networkcache] \(key) is not a key netcache or SlapOS reads\(hint); it is ignored"
        }
    }
}
