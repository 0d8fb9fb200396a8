import FoundationEssentials
import NetcacheProtocol

/// What the trust commands run on a root's (or a timestamp key's) machine: read the newest
/// document from the caches, change it, sign it and file it where nodes look.
///
/// A document goes to every cache `[networkcache]` uploads to, the binary cache and the
/// download cache, since nodes read it from the cache whose entries they check.
public struct TrustPublisher {
    public let settings: TrustSettings
    /// One client per distinct shadir uploaded to.
    public let caches: [NetworkCache]

    public init(configuration: NetworkCacheConfiguration) throws {
        var reading = configuration
        reading.signaturePrivateKeyFile = nil
        settings = try TrustSettings(configuration: reading)
        guard !settings.roots.isEmpty else {
            throw ConfigurationError("signature-root-list is empty: trust documents belong to the roots it lists")
        }
        let pairs = [
            (cache: (reading.downloadBinaryCacheURL, reading.uploadBinaryCacheURL), dir: (reading.downloadBinaryDirURL ?? reading.uploadBinaryDirURL, reading.uploadBinaryDirURL)),
            (cache: (reading.downloadCacheURL, reading.uploadCacheURL), dir: (reading.downloadDirURL ?? reading.uploadDirURL, reading.uploadDirURL)),
        ]
        var caches: [NetworkCache] = []
        for pair in pairs where pair.dir.1 != nil && pair.cache.1 != nil {
            guard !caches.contains(where: { $0.shadir.uploadURL == pair.dir.1 }) else { continue }
            caches.append(try NetworkCache(configuration: reading, cacheURLs: pair.cache, dirURLs: pair.dir))
        }
        guard !caches.isEmpty else {
            throw ConfigurationError("no cache to publish to: set upload-binary-cache-url and upload-binary-dir-url, or upload-cache-url and upload-dir-url")
        }
        self.caches = caches
    }

    /// The newest document any of the caches chains to from the roots (`nil` before the
    /// first), as the caches serve it: staleness does not matter to a root.
    public func current(at now: Date) throws -> ResolvedTrust? {
        var newest: ResolvedTrust?
        for cache in caches where cache.shadir.downloadURL != nil {
            let chain = TrustChain(settings: settings) { key in try cache.shadir.entries(for: key) }
            let resolved = try chain.resolve(at: now, remember: false)
            if let version = resolved.document?.version, version > newest?.document?.version ?? 0 { newest = resolved }
        }
        return newest
    }

    /// The next version: the current one changed by `change`, or the first, whose roots are
    /// `signature-root-list`.
    public func next(at now: Date, change: (inout TrustDocument) throws -> Void) throws -> (document: TrustDocument, previous: TrustDocument?) {
        let previous = try current(at: now)?.document
        var document = previous ?? TrustDocument(version: 0, issuedAt: now, roots: settings.roots, rootThreshold: settings.rootThreshold)
        try change(&document)
        document.version += 1
        document.issuedAt = now
        return (document, previous)
    }

    public struct Filed {
        public let version: Int
        /// Distinct root signatures it holds, and how many the rules need.
        public let previousRoots: (signed: Int, needed: Int)
        public let ownRoots: (signed: Int, needed: Int)

        public var isComplete: Bool { previousRoots.signed >= previousRoots.needed && ownRoots.signed >= ownRoots.needed }
    }

    /// Signs `document` with `rootKeys` and files it. A document short of root signatures is
    /// filed all the same, for the other roots to sign with `sign(rootKeys:at:)`; nodes ignore
    /// it until then.
    @discardableResult
    public func publish(_ document: TrustDocument, previous: TrustDocument?, rootKeys: [SigningKey]) throws -> Filed {
        let body = document.body
        var statement: SignedStatement?
        for cache in caches {
            let sha512 = try cache.shacache.upload(bytes: Array(JSONValue.object(body).pythonJSON.utf8))
            let info = NetworkCache.info(sha512: sha512, metadata: body)
            statement = try file(info: info, signedBy: rootKeys, roots: [document.roots, previous?.roots ?? .empty], in: cache)
        }
        guard let statement else { throw ConfigurationError("no cache to publish to") }
        let anchor = previous?.roots ?? settings.roots
        let anchorThreshold = previous?.rootThreshold ?? settings.rootThreshold
        return Filed(
            version: document.version,
            previousRoots: (Self.count(statement, by: anchor), anchorThreshold),
            ownRoots: (Self.count(statement, by: document.roots), document.rootThreshold))
    }

    /// Adds the signatures of `rootKeys` to the newest document filed, whether or not it
    /// counts yet: the missing roots of a threshold sign it this way. Each key must be a root
    /// of that document or of the current one.
    public func sign(rootKeys: [SigningKey], at now: Date) throws -> Filed {
        let current = try self.current(at: now)?.document
        let roots = current?.roots ?? settings.roots
        var result: Filed?
        for cache in caches where cache.shadir.downloadURL != nil {
            var candidates: [(document: TrustDocument, statement: SignedStatement)] = []
            for root in roots.keys {
                let key = TrustKeys.key(forRoot: root.keyID)
                for statement in SignedStatement.group(try cache.shadir.entries(for: key), under: key) {
                    if let document = (try? TrustDocument(statement: statement)) ?? nil { candidates.append((document, statement)) }
                }
            }
            guard let newest = candidates.max(by: { $0.document.version < $1.document.version }) else {
                throw TrustDocumentError("no trust document to sign in \(cache.shadir.downloadURL ?? "")")
            }
            let previous = current.flatMap { $0.version < newest.document.version ? $0 : nil }
            let anchor = previous?.roots ?? settings.roots
            for key in rootKeys where !(newest.document.roots.keys + anchor.keys).contains(where: { $0.keyID == key.publicKey.keyID }) {
                throw TrustDocumentError("key \(key.publicKey.keyID.prefix(12)) is not a root of trust document version \(newest.document.version) nor of the one before it")
            }
            let signed = try file(
                info: newest.statement.info, signedBy: rootKeys, roots: [newest.document.roots, previous?.roots ?? .empty], in: cache,
                existing: newest.statement.signatures)
            result = Filed(
                version: newest.document.version,
                previousRoots: (Self.count(signed, by: anchor), previous?.rootThreshold ?? settings.rootThreshold),
                ownRoots: (Self.count(signed, by: newest.document.roots), newest.document.rootThreshold))
        }
        guard let result else { throw ConfigurationError("no cache to read the document from: set download-binary-dir-url or download-dir-url") }
        return result
    }

    /// Signs and files a timestamp of the current document with an online key the document
    /// gives the timestamp role.
    public func timestamp(key: SigningKey, valid: TrustDuration, at now: Date) throws -> TrustTimestamp {
        guard let current = try current(at: now), let document = current.document, let statement = current.statement else {
            throw TrustDocumentError("no trust document to timestamp: a root publishes one with `netcache trust delegate`")
        }
        guard let signer = document.signer(withKeyID: key.publicKey.keyID), signer.role == .timestamp else {
            throw TrustDocumentError("this key is not a timestamp signer of trust document version \(document.version); a root delegates it with --role timestamp")
        }
        guard signer.expires > now else {
            throw TrustDocumentError("this key's timestamp delegation expired on \(TrustDate.format(signer.expires))")
        }
        let stamp = TrustTimestamp(
            documentVersion: document.version, documentSHA512: StreamingDigest.sha512Hex(of: Array(statement.info.utf8)), issuedAt: now,
            expires: now.addingTimeInterval(TimeInterval(valid.seconds)))
        for cache in caches {
            let sha512 = try cache.shacache.upload(bytes: Array(JSONValue.object(stamp.body).pythonJSON.utf8))
            let info = NetworkCache.info(sha512: sha512, metadata: stamp.body)
            try file(info: info, signedBy: [key], roots: [document.roots], in: cache)
        }
        return stamp
    }

    /// PUTs one entry per key's signature under the keys of `roots`; returns the statement
    /// with every signature it now holds.
    @discardableResult
    private func file(info: String, signedBy keys: [SigningKey], roots: [CertificateList], in cache: NetworkCache, existing: [String] = []) throws -> SignedStatement {
        let targets = roots.flatMap(\.keys).map { TrustKeys.key(forRoot: $0.keyID) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        guard let first = targets.first else { throw TrustDocumentError("a trust document needs at least one root") }
        var statement = SignedStatement(key: first, info: info, signatures: existing)
        for key in keys {
            let signature = Data(try key.sign(Array(info.utf8), scheme: key.isEd25519 ? .ed25519 : .rsaPSSSHA256)).base64EncodedString()
            if !statement.signatures.contains(signature) { statement.signatures.append(signature) }
        }
        for target in targets {
            for signature in statement.signatures {
                try cache.shadir.put(ShadirEntry(info: info, signature: signature), under: target)
            }
        }
        return statement
    }

    static func count(_ statement: SignedStatement, by roots: CertificateList) -> Int {
        roots.signers(of: statement.info, signatures: statement.signatures).filter { $0.scheme.isModern }.count
    }
}
