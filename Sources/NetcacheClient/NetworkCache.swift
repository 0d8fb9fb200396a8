import Foundation
import NetcacheProtocol

/// A client of one shacache + shadir pair, with the signing key and the trust list:
/// what upstream's `NetworkcacheClient` is.
public struct NetworkCache: Sendable {
    public let shacache: ShacacheClient
    public let shadir: ShadirClient
    public let trust: CertificateList
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
        trust = CertificateList(pem: configuration.signatureCertificateList)
        signingKey = try configuration.signaturePrivateKeyFile.map { try SigningKey(pemFile: $0) }
        // Upstream refuses this too: every entry uploaded would be unverifiable on download,
        // so each would be uploaded again and again.
        if let signingKey, let keyFile = configuration.signaturePrivateKeyFile, dirURLs.download != nil, !trust.contains(publicKeyOf: signingKey) {
            let list = trust.isEmpty ? "signature-certificate-list is empty or missing (is the key spelt right?)" : "none of the \(trust.keys.count) certificate(s) of signature-certificate-list is its"
            throw ConfigurationError(
                "signature-private-key-file \(keyFile) does not match any certificate of signature-certificate-list: \(list); add the certificate `netcache keygen --cert-file` wrote for this key")
        }
    }

    /// The `info` text upstream writes: Python's `json.dumps` of `sha512` then the metadata.
    public static func info(sha512: String, metadata: JSONObject) -> String {
        JSONValue.object(JSONObject([("sha512", .string(sha512))] + metadata.members)).pythonJSON
    }

    /// Signs the entry's `info` and files it. Without a signing key the signature is
    /// empty, as upstream.
    public func index(key: String, sha512: String, metadata: JSONObject) throws {
        guard metadata["sha512"] == nil else { throw ConfigurationError("metadata must not contain sha512: it is the uploaded data's") }
        let info = Self.info(sha512: sha512, metadata: metadata)
        let signature = try signingKey?.signature(of: info) ?? ""
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

    /// The entries of `key` whose signature verifies (every entry when the trust list is
    /// empty, as upstream), whose `info` is a JSON object with a `sha512` string, in order.
    public func select(key: String) throws -> [JSONObject] {
        try shadir.entries(for: key).compactMap { entry in
            guard trust.isEmpty || trust.verifies(info: entry.info, signature: entry.signature) else { return nil }
            guard let fields = entry.fields, fields["sha512"]?.stringValue != nil else { return nil }
            return fields
        }
    }
}
