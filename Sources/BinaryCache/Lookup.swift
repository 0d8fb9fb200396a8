import Foundation
import NetcacheClient
import NetcacheProtocol

/// Every binary-cache entry of a release, under both keys, each with whether its signature
/// verifies and whether it suits this machine; netcache's own entries first.
public struct Lookup {
    public let settings: BinaryCacheSettings
    let cache: NetworkCache

    public struct Candidate {
        public let key: String
        public let entry: BinaryEntry
        public let verified: Bool
        public let compatibility: Compatibility
    }

    public init(settings: BinaryCacheSettings) throws {
        self.settings = settings
        let network = settings.network
        cache = try NetworkCache(
            configuration: network,
            cacheURLs: (network.downloadBinaryCacheURL, network.uploadBinaryCacheURL),
            dirURLs: (network.downloadBinaryDirURL, network.uploadBinaryDirURL))
    }

    /// Skipped certificates of the trust list, for the operator.
    public var skippedCertificates: [String] { cache.trust.skipped }

    public func entries(softwareURL: String) throws -> [Candidate] {
        try entries(md5: BinaryEntry.legacyKey(softwareURL: softwareURL))
    }

    public func entries(md5: String) throws -> [Candidate] {
        let machine = Fingerprint.current(softwareRoot: settings.softwareRoot)
        var candidates: [Candidate] = []
        for (key, legacy) in [("netcache:" + md5, false), (md5, true)] {
            for raw in try cache.shadir.entries(for: key) {
                guard let fields = raw.fields, let entry = BinaryEntry(fields: fields, legacyKey: legacy) else { continue }
                candidates.append(Candidate(
                    key: key, entry: entry,
                    verified: cache.trust.verifies(info: raw.info, signature: raw.signature),
                    compatibility: Compatibility(entry: entry, machine: machine)))
            }
        }
        return candidates
    }
}
