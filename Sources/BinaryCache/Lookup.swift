import Foundation
import NetcacheClient
import NetcacheProtocol

/// Every binary-cache entry of a release, under both keys, each with whether its signature
/// verifies and whether it suits this machine; netcache's own entries first.
public struct Lookup {
    public let settings: BinaryCacheSettings
    private let cache: NetworkCache

    public struct Candidate {
        public let key: String
        public let entry: BinaryEntry
        public let verified: Bool
        /// Whether the entry's `software_url` is the release it is filed under: a validly
        /// signed entry of another release, filed again under this key, must not install.
        public let namesRelease: Bool
        /// Under the rule in force.
        public let compatibility: Compatibility
        /// Under each rule, for `lookup binary-sr`.
        public let byRule: [CompatibilityRule: Compatibility]

        public var installable: Bool { verified && namesRelease && compatibility.isCompatible }

        /// The software_root an installable entry would be moved from; `nil` when it
        /// installs where it was built, or not at all.
        public let relocatedFrom: String?

        /// Why it cannot be installed here; `nil` when it can.
        public var refusal: String? {
            if !verified { return "signature not trusted" }
            if !namesRelease { return "filed for another release: \(entry.softwareURL)" }
            if case .incompatible(let why) = compatibility { return why }
            return nil
        }
    }

    public init(settings: BinaryCacheSettings) throws {
        try self.init(settings: settings, cache: settings.downloadCache())
    }

    /// Looks up through `cache`, which the caller goes on using to download.
    init(settings: BinaryCacheSettings, cache: NetworkCache) {
        self.settings = settings
        self.cache = cache
    }

    /// Skipped certificates of the trust list, for the operator.
    public var skippedCertificates: [String] { cache.trust.skipped }

    /// Whether the trust list is empty: then nothing in the cache can be installed.
    public var trustsNothing: Bool { cache.trust.isEmpty }

    public func entries(softwareURL: String) throws -> [Candidate] {
        try entries(md5: BinaryEntry.legacyKey(softwareURL: softwareURL))
    }

    public func entries(md5: String) throws -> [Candidate] {
        let machine = Fingerprint.current(softwareRoot: settings.softwareRoot)
        let host = HostLibraries(multiarch: machine.multiarch)
        var candidates: [Candidate] = []
        for (key, legacy) in [("netcache:" + md5, false), (md5, true)] {
            for raw in try cache.shadir.entries(for: key) {
                guard let fields = raw.fields, let entry = BinaryEntry(fields: fields, legacyKey: legacy) else { continue }
                let distribution = Compatibility(entry: entry, machine: machine, relocate: settings.relocate)
                let byRule: [CompatibilityRule: Compatibility] = [
                    .distribution: distribution,
                    .abi: Compatibility.byABI(entry: entry, machine: machine, host: host, relocate: settings.relocate) ?? distribution,
                ]
                candidates.append(Candidate(
                    key: key, entry: entry,
                    verified: cache.trust.verifies(info: raw.info, signature: raw.signature),
                    namesRelease: BinaryEntry.legacyKey(softwareURL: entry.softwareURL) == md5,
                    compatibility: byRule[settings.compatibility] ?? distribution, byRule: byRule,
                    relocatedFrom: (try? entry.builtUnder()).flatMap { $0 == settings.softwareRoot ? nil : $0 }))
            }
        }
        return candidates
    }
}
