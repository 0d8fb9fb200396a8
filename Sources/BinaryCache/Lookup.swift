import Foundation
import NetcacheClient
import NetcacheProtocol

/// Every binary-cache entry of a release, under both keys, each with whether it is trusted
/// (and why not) and whether it suits this machine; netcache's own entries first.
public struct Lookup {
    public let settings: BinaryCacheSettings
    private let cache: NetworkCache

    public struct Candidate {
        public let key: String
        public let entry: BinaryEntry
        /// Every signature filed for this very `info`: thresholds count them together.
        public let statement: SignedStatement
        public let trust: TrustVerdict
        /// Whether the entry's `software_url` is the release it is filed under: a validly
        /// signed entry of another release, filed again under this key, must not install.
        public let namesRelease: Bool
        /// Under the rule in force.
        public let compatibility: Compatibility
        /// Under each rule, for `lookup binary-sr`.
        public let byRule: [CompatibilityRule: Compatibility]

        public var verified: Bool { trust.isTrusted }
        public var installable: Bool { verified && namesRelease && compatibility.isCompatible }

        /// The software_root an installable entry would be moved from; `nil` when it
        /// installs where it was built, or not at all.
        public let relocatedFrom: String?

        /// Why it cannot be installed here; `nil` when it can.
        public var refusal: String? {
            if let why = trust.refusal { return why }
            if !namesRelease { return "filed for another release: \(entry.softwareURL)" }
            if case .incompatible(let why) = compatibility { return why }
            return nil
        }
    }

    /// What decides trust, read once: a lookup and the install after it see one document.
    public let trust: any EntryTrust

    public init(settings: BinaryCacheSettings) throws {
        try self.init(settings: settings, cache: settings.downloadCache())
    }

    /// Looks up through `cache`, which the caller goes on using to download. With roots
    /// configured, this reads their document from the cache.
    init(settings: BinaryCacheSettings, cache: NetworkCache) throws {
        self.settings = settings
        self.cache = cache
        trust = try cache.entryTrust(emptyListTrustsAll: false)
    }

    /// Skipped certificates of the trust lists, for the operator.
    public var skippedCertificates: [String] { cache.trustSettings.skipped }

    /// Why nothing in the cache can be installed (no key trusted, a stale or rolled-back
    /// document), or `nil`.
    public var refusesEverything: String? { trust.refusesEverything }

    public func entries(softwareURL: String) throws -> [Candidate] {
        try entries(md5: BinaryEntry.legacyKey(softwareURL: softwareURL))
    }

    public func entries(md5: String) throws -> [Candidate] {
        let machine = Fingerprint.current(softwareRoot: settings.softwareRoot)
        let host = HostLibraries(multiarch: machine.multiarch)
        var candidates: [Candidate] = []
        let now = Date()
        for (key, legacy) in [("netcache:" + md5, false), (md5, true)] {
            for statement in SignedStatement.group(try cache.shadir.entries(for: key), under: key) {
                guard let fields = statement.fields, let entry = BinaryEntry(fields: fields, legacyKey: legacy) else { continue }
                let distribution = Compatibility(entry: entry, machine: machine, relocate: settings.relocate)
                let byRule: [CompatibilityRule: Compatibility] = [
                    .distribution: distribution,
                    .abi: Compatibility.byABI(entry: entry, machine: machine, host: host, relocate: settings.relocate) ?? distribution,
                ]
                candidates.append(Candidate(
                    key: key, entry: entry, statement: statement,
                    trust: trust.verdict(on: statement, at: now),
                    namesRelease: BinaryEntry.legacyKey(softwareURL: entry.softwareURL) == md5,
                    compatibility: byRule[settings.compatibility] ?? distribution, byRule: byRule,
                    relocatedFrom: (try? entry.builtUnder()).flatMap { $0 == settings.softwareRoot ? nil : $0 }))
            }
        }
        return candidates
    }
}

extension Lookup {
    /// The bytes an install of `candidate` on this node would fetch, given what its seeds
    /// hold (the chunk cache, the releases installed from chunk indexes, if unchanged): a
    /// chunked entry's index and the chunks nothing here holds; a whole archive's size.
    /// `nil` for an entry that would not install (its blobs are not fetched for an
    /// untrusted entry) or that signs no size.
    public func bytesToFetch(_ candidate: Candidate) throws -> Int? {
        guard candidate.installable else { return nil }
        guard candidate.entry.format == .chunks else { return candidate.entry.size }
        let (index, blob) = try Installer.chunkIndex(of: candidate.entry, from: cache.shacache)
        let root = open(settings.softwareRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if root >= 0 { close(root) } }
        let seeds = Installer(settings: settings).chunkSeeds(root: root).seeds
        var counted = Set<String>()
        var bytes = blob.count
        for chunk in index.chunks where counted.insert(chunk.blob).inserted && !seeds.contains(where: { $0.holds(chunk) }) {
            bytes += chunk.blobSize
        }
        return bytes
    }
}
