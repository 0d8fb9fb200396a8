import Foundation
import NetcacheProtocol

/// A client of one shacache + shadir pair, with the signing key and the trust list:
/// what upstream's `NetworkcacheClient` is.
public struct NetworkCache: Sendable {
    public let shacache: ShacacheClient
    public let shadir: ShadirClient
    public let trustSettings: TrustSettings
    public let signingKey: SigningKey?

    /// The download cache of `[networkcache]`: `download-`/`upload-cache-url` and `-dir-url`.
    public init(configuration: NetworkCacheConfiguration) throws {
        try self.init(
            configuration: configuration,
            cacheURLs: (configuration.downloadCacheURL, configuration.uploadCacheURL),
            dirURLs: (configuration.downloadDirURL, configuration.uploadDirURL))
    }

    /// Any pair of endpoints (the binary cache has its own), with the configuration's
    /// key, trust list and TLS settings; `timeouts` for lookups and downloads.
    public init(
        configuration: NetworkCacheConfiguration, cacheURLs: (download: String?, upload: String?),
        dirURLs: (download: String?, upload: String?), timeouts: TransferTimeouts = .downloads
    ) throws {
        var shacache = ShacacheClient(downloadURL: cacheURLs.download, uploadURL: cacheURLs.upload, tls: configuration.shacacheTLS)
        shacache.timeouts = timeouts
        self.shacache = shacache
        var shadir = ShadirClient(downloadURL: dirURLs.download, uploadURL: dirURLs.upload, tls: configuration.shadirTLS)
        shadir.timeouts = timeouts
        self.shadir = shadir
        trustSettings = try TrustSettings(configuration: configuration)
        signingKey = try configuration.signaturePrivateKeyFile.map { try SigningKey(pemFile: $0) }
        let trust = trustSettings.certificates
        // Upstream refuses this too: every entry uploaded would be unverifiable on download,
        // so each would be uploaded again and again. A signer the roots delegate to is in
        // no list: the roots' document decides.
        if let signingKey, let keyFile = configuration.signaturePrivateKeyFile, dirURLs.download != nil, trustSettings.roots.isEmpty,
            !trust.contains(publicKeyOf: signingKey)
        {
            let list = trust.isEmpty ? "signature-certificate-list is empty or missing (is the key spelt right?)" : "none of the \(trust.keys.count) certificate(s) of signature-certificate-list is its"
            throw ConfigurationError(
                "signature-private-key-file \(keyFile) does not match any certificate of signature-certificate-list: \(list); add the certificate `netcache keygen --cert-file` wrote for this key")
        }
    }

    /// The `info` text upstream writes: Python's `json.dumps` of `sha512` then the metadata.
    public static func info(sha512: String, metadata: JSONObject) -> String {
        JSONValue.object(JSONObject([("sha512", .string(sha512))] + metadata.members)).pythonJSON
    }

    /// What this cache's entries are trusted by: the roots' document when
    /// `signature-root-list` is set (read from this cache's shadir now), else the flat list.
    /// `emptyListTrustsAll`: download commands trust everything with no list, as upstream.
    /// `threshold` overrides `signature-threshold` (`cosign` looks for one signature).
    public func entryTrust(emptyListTrustsAll: Bool, threshold: Int? = nil, at now: Date = Date()) throws -> any EntryTrust {
        let threshold = threshold ?? trustSettings.threshold
        guard !trustSettings.roots.isEmpty else {
            return CertificateListTrust(
                certificates: trustSettings.certificates, threshold: threshold, policy: trustSettings.policy,
                emptyTrustsAll: emptyListTrustsAll)
        }
        let chain = TrustChain(settings: trustSettings) { key in try shadir.entries(for: key) }
        return DelegatedTrust(resolved: try chain.resolve(at: now), threshold: threshold, policy: trustSettings.policy)
    }

    /// Signs the entry's `info` and files it. Without a signing key the signature is
    /// empty, as upstream.
    public func index(key: String, sha512: String, metadata: JSONObject) throws {
        guard metadata["sha512"] == nil else { throw ConfigurationError("metadata must not contain sha512: it is the uploaded data's") }
        let info = Self.info(sha512: sha512, metadata: metadata)
        let signature = try signingKey?.signature(of: info, under: key) ?? ""
        try shadir.put(ShadirEntry(info: info, signature: signature), under: key)
    }

    /// Uploads a file and, when a key is given, indexes it with `metadata`.
    public func upload(file path: String, key: String?, metadata: JSONObject) throws -> String {
        if key != nil && metadata.members.isEmpty { throw ConfigurationError("metadata should not be empty") }
        let sha512 = try shacache.upload(file: path)
        if let key { try index(key: key, sha512: sha512, metadata: metadata) }
        return sha512
    }

    /// Uploads an open file the caller hashed and, when a key is given, indexes it.
    public func upload(descriptor: Int32, size: Int, sha512: String, key: String?, metadata: JSONObject) throws {
        if key != nil && metadata.members.isEmpty { throw ConfigurationError("metadata should not be empty") }
        try shacache.upload(descriptor: descriptor, size: size, sha512: sha512)
        if let key { try index(key: key, sha512: sha512, metadata: metadata) }
    }

    /// The entries of `key` that are trusted (every entry when no list nor root is set, as
    /// upstream), whose `info` is a JSON object with a `sha512` string, in order; an entry
    /// signed several times appears once.
    public func select(key: String) throws -> [JSONObject] {
        let entries = try shadir.entries(for: key)
        let trust = try entryTrust(emptyListTrustsAll: true)
        let now = Date()
        return SignedStatement.group(entries, under: key).compactMap { statement in
            guard trust.verdict(on: statement, at: now).isTrusted else { return nil }
            guard let fields = statement.fields, fields["sha512"]?.stringValue != nil else { return nil }
            return fields
        }
    }
}
