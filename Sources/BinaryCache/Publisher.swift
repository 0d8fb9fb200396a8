import Foundation
import NetcacheClient
import NetcacheProtocol

/// Publishes a built release: packs `<software_root>/<md5(url)>` once, and in the same pass
/// cuts it into chunks stored in shacache (those it lacks) under a chunk index, and
/// compresses it to gzip while legacy compatibility is on; files a signed entry for the
/// index and one for the gzip archive.
public struct Publisher {
    public let settings: BinaryCacheSettings

    public enum Outcome {
        /// Nothing published, on purpose (a `.shared` release, a blacklisted URL).
        case skipped(String)
        case published([PublishedArchive])
    }

    public struct PublishedArchive {
        public let key: String
        public let entry: BinaryEntry
        /// Whether a new entry was filed (an unchanged release files nothing).
        public let indexed: Bool
    }

    /// What packing left out, for the operator.
    public private(set) var excluded: [(path: String, reason: String)] = []
    /// Files published without their setuid or setgid bit, set by `publish`.
    public private(set) var privilegeBitsDropped: [String] = []
    /// Told of the files and bytes packed so far, for a progress display.
    public var onPacked: ((_ files: Int, _ bytes: Int) -> Void)?
    /// What went wrong without stopping the publish.
    public private(set) var warnings: [String] = []
    /// The chunks this publish sent, and their stored bytes: what it added to shacache
    /// beside its index and legacy archive (the others were there already).
    public private(set) var storedChunks = (chunks: 0, bytes: 0)
    /// Until when the netcache entry may be installed (`publish --expires`).
    public var expires: Date?

    public init(settings: BinaryCacheSettings) {
        self.settings = settings
    }

    public mutating func publish(softwareURL: String) throws -> Outcome {
        let md5 = BinaryEntry.legacyKey(softwareURL: softwareURL)
        let root = settings.softwareRoot
        let release = root + "/" + md5
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: release, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError("no release directory \(release) for \(softwareURL)")
        }
        if FileManager.default.fileExists(atPath: release + "/.shared") {
            return .skipped("\(release) holds a .shared marker: shared releases are not published")
        }
        if let prefix = settings.network.uploadToBinaryCacheURLBlacklist.first(where: { softwareURL.hasPrefix($0) }) {
            return .skipped("\(softwareURL) is on upload-to-binary-cache-url-blacklist (\(prefix))")
        }
        let network = settings.network
        guard network.uploadBinaryCacheURL != nil, network.uploadBinaryDirURL != nil else {
            throw ConfigurationError("upload-binary-cache-url and upload-binary-dir-url must be set in [networkcache]")
        }
        let cache = try settings.uploadCache()
        guard let signingKey = cache.signingKey else {
            throw ConfigurationError("signature-private-key-file must be set: every binary-cache entry is signed")
        }
        // Refused before anything is packed or filed, not halfway through.
        if settings.legacy { _ = try signingKey.scheme(for: md5) }
        try checkDelegated(signingKey, for: softwareURL, cache: cache)

        // A second publish of the release waits, then finds the entries filed and files none.
        let softwareRoot = try SoftwareRoot(path: root)
        let lock = try softwareRoot.lock(release: md5)
        defer { withExtendedLifetime(lock) {} }
        try softwareRoot.removeLeftovers()

        let owner = try Self.ownerNames(of: root)
        let gzipSpool = settings.legacy ? try SpooledArchive(directory: root) : nil
        let gzip = gzipSpool.map { GzipCompressor(sink: $0.write) }
        let scan = ABIScan(releasePath: release)
        let relocation = RelocationScan(softwareRoot: root)
        let uploader = try ChunkUploader(shacache: cache.shacache)
        let chunks = ChunkIndexBuilder(softwareRoot: root, release: md5, relocation: relocation, uploader: uploader)
        // The relocation scan first: the chunk index normalises what it found.
        let packer = TreePacker(
            source: release, top: md5, ownerName: owner.user, groupName: owner.group, excludePatterns: settings.excludePatterns,
            observers: [scan, relocation, chunks] + (onPacked.map { [PackCounter(report: $0)] } ?? []))
        let report: PackReport
        let index: ChunkIndex
        do {
            report = try packer.pack { bytes in try gzip?.compress(bytes) }
            try gzip?.finish()
            index = try chunks.finish()
        } catch {
            gzip?.cancel()
            uploader.cancel()
            throw error
        }
        excluded = report.excluded
        privilegeBitsDropped = report.privilegeBitsDropped
        storedChunks = uploader.sent

        let machine = Fingerprint.current(softwareRoot: root)
        var published: [PublishedArchive] = []
        // The index names only stored chunks; the entry names only a stored index.
        let indexBlob = try index.encoded()
        // Read back as a node will, so that no entry names an index every node refuses.
        guard indexBlob.count <= ChunkIndex.blobSizeLimit else {
            throw ArchiveError("the chunk index takes \(indexBlob.count) bytes, more than the \(ChunkIndex.blobSizeLimit) a node reads")
        }
        _ = try ChunkIndex(decoding: indexBlob)
        let indexSHA512 = try cache.shacache.upload(bytes: indexBlob)
        let chunked = BinaryEntry(
            sha512: indexSHA512, softwareURL: softwareURL, softwareRoot: root, multiarch: machine.multiarch,
            os: machine.os.tuple, libc: machine.libc, format: .chunks, size: indexBlob.count,
            unpackedSize: report.unpackedSize, fileCount: report.fileCount, abi: scan.record(),
            relocation: relocation.record(),
            signedAt: TrustDate.format(Date()), expires: expires.map(TrustDate.format))
        let key = BinaryEntry.netcacheKey(softwareURL: softwareURL)
        published.append(PublishedArchive(key: key, entry: chunked, indexed: try indexUnlessPresent(chunked, key: key, cache: cache)))
        // The tree seeds this node's later installs (an upgrade) as an installed one does.
        if let failure = InstalledTrees.keep(indexBlob, md5: md5, root: softwareRoot.descriptor) {
            warnings.append("its chunk index was not kept to seed later installs: \(failure)")
        }
        if let gzipSpool {
            let sha512 = gzipSpool.finish()
            let entry = BinaryEntry(
                sha512: sha512, softwareURL: softwareURL, softwareRoot: root, multiarch: machine.multiarch,
                os: machine.os.tuple, libc: machine.libc, format: .gzip, size: gzipSpool.size,
                unpackedSize: report.unpackedSize, fileCount: report.fileCount)
            try cache.shacache.upload(descriptor: gzipSpool.descriptor, size: gzipSpool.size, sha512: sha512)
            published.append(PublishedArchive(key: md5, entry: entry, indexed: try indexUnlessPresent(entry, key: md5, cache: cache)))
        }
        return .published(published)
    }

    /// With roots configured, a key they do not delegate to for this URL would file entries
    /// no node trusts: refused, as upstream refuses a key missing from the trust list.
    private func checkDelegated(_ key: SigningKey, for softwareURL: String, cache: NetworkCache) throws {
        guard !cache.trustSettings.roots.isEmpty, cache.shadir.downloadURL != nil else { return }
        let now = Date()
        let resolved = try TrustChain(settings: cache.trustSettings) { key in try cache.shadir.entries(for: key) }.resolve(at: now, remember: false)
        guard let document = resolved.document else { throw ConfigurationError(resolved.refusal ?? "no trust document") }
        let name = key.publicKey.keyID.prefix(12)
        guard let signer = document.signer(withKeyID: key.publicKey.keyID), signer.role == .sign else {
            throw ConfigurationError("signature-private-key-file (key \(name)) is not a signer of trust document version \(document.version): a root delegates it with `netcache trust delegate`")
        }
        guard signer.expires > now else {
            throw ConfigurationError("signature-private-key-file (key \(name)): its delegation expired on \(TrustDate.format(signer.expires))")
        }
        guard signer.covers(softwareURL) else {
            throw ConfigurationError("\(softwareURL) is out of scope of signer \(name) (\(signer.scopes.joined(separator: ", ")))")
        }
    }

    /// An unchanged release gives the same entry but for its `signed_at`: look first, and
    /// file nothing when this key already signed it and it has not expired. Another
    /// signer's copy does not count: it may be revoked.
    private func indexUnlessPresent(_ entry: BinaryEntry, key: String, cache: NetworkCache) throws -> Bool {
        func unsigned(_ fields: JSONObject?) -> JSONObject? {
            var fields = fields
            fields?["signed_at"] = nil
            return fields
        }
        let info = unsigned(JSONValue.object(JSONObject([("sha512", .string(entry.sha512))] + entry.metadata.members)).objectValue)
        let now = Date()
        let own = CertificateList(keys: cache.signingKey.map { [$0.publicKey] } ?? [], certificates: [], skipped: [])
        if cache.shadir.downloadURL != nil, try cache.shadir.entries(for: key).contains(where: { existing in
            let fields = existing.fields
            let expired = fields?["expires"]?.stringValue.flatMap(TrustDate.parse).map { $0 <= now } ?? false
            return !expired && unsigned(fields) == info && own.verifies(info: existing.info, signature: existing.signature)
        }) {
            return false
        }
        try cache.index(key: key, sha512: entry.sha512, metadata: entry.metadata)
        return true
    }

    /// The user and group names owning software_root: the legacy installer, running as
    /// root, gives the tree to them.
    static func ownerNames(of path: String) throws -> (user: String, group: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw ConfigurationError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let user = getpwuid(status.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "root"
        let group = getgrgid(status.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "root"
        return (user, group)
    }
}
