import Foundation
import NetcacheClient

/// The binary cache's settings: `[networkcache]` for the endpoints, keys and lists,
/// `[slapos]` for software_root and software_min_free_space, as slapgrid reads them.
public struct BinaryCacheSettings: Sendable {
    public var network: NetworkCacheConfiguration
    /// Always in its normalised spelling, however the configuration writes it.
    public var softwareRoot: String {
        didSet { softwareRoot = normalisedRoot(softwareRoot) }
    }
    /// Free space required before expanding a release (slapgrid's default: 1000M).
    public var minimumFreeSpace: Int
    /// fnmatch patterns left out of published archives, besides `.netrc` and special files
    /// (`binary-cache-exclude` in `[networkcache]`, one per line).
    public var excludePatterns: [String]
    /// Whether publish also makes the gzip archive under the legacy key that unmodified
    /// SlapOS nodes read (`binary-cache-legacy-format = false` turns it off).
    public var legacy: Bool
    /// How long a binary-cache lookup or download may wait (`binary-cache-connect-timeout`,
    /// `binary-cache-low-speed-time`): a dead cache must cost seconds, since the node
    /// builds instead.
    public var timeouts = TransferTimeouts(connect: 5, lowSpeedLimit: 1024, lowSpeedTime: 15)
    /// How installs make their tree durable (`binary-cache-install-sync`).
    public var durability = Durability.files
    /// `binary-cache-compatibility`.
    public var compatibility = CompatibilityRule.distribution
    /// `binary-cache-relocate`: whether a relocatable entry built under another
    /// software_root installs here, moved.
    public var relocate = true
    /// `binary-cache-chunk-cache`: where installs keep the chunks they fetched, to seed the
    /// next ones; `nil`, none (installed trees still seed).
    public var chunkCache: String?
    /// `binary-cache-chunk-cache-size`: the chunk cache's bound (default 2 GiB).
    public var chunkCacheSize = 2 << 30
    /// `binary-cache-chunk-connections`: chunks fetched at once, one connection each.
    public var chunkConnections = 8

    public init(network: NetworkCacheConfiguration, softwareRoot: String = "/opt/slapgrid", minimumFreeSpace: Int = 1000 << 20, excludePatterns: [String] = [], legacy: Bool = true) {
        self.network = network
        self.softwareRoot = normalisedRoot(softwareRoot)
        self.minimumFreeSpace = minimumFreeSpace
        self.excludePatterns = excludePatterns
        self.legacy = legacy
    }

    public init(file: INIFile) throws {
        self.init(network: NetworkCacheConfiguration(file: file))
        if let root = file.value("software_root", in: "slapos"), !root.isEmpty { softwareRoot = normalisedRoot(root) }
        if let space = file.value("software_min_free_space", in: "slapos"), !space.isEmpty {
            guard let bytes = Self.parseHumanBytes(space) else {
                throw ConfigurationError("software_min_free_space: cannot read '\(space)' as a size")
            }
            minimumFreeSpace = bytes
        }
        excludePatterns = (file.value("binary-cache-exclude", in: "networkcache") ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        legacy = try Self.flag("binary-cache-legacy-format", in: file) ?? legacy
        if let sync = file.value("binary-cache-install-sync", in: "networkcache"), !sync.isEmpty {
            guard let durability = Durability(rawValue: sync.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError("binary-cache-install-sync: expected files or filesystem, got '\(sync)'")
            }
            self.durability = durability
        }
        relocate = try Self.flag("binary-cache-relocate", in: file) ?? relocate
        if let rule = file.value("binary-cache-compatibility", in: "networkcache"), !rule.isEmpty {
            guard let compatibility = CompatibilityRule(rawValue: rule.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError("binary-cache-compatibility: expected distribution or abi, got '\(rule)'")
            }
            self.compatibility = compatibility
        }
        if let path = file.value("binary-cache-chunk-cache", in: "networkcache"), !path.isEmpty {
            guard path.hasPrefix("/") else { throw ConfigurationError("binary-cache-chunk-cache: expected an absolute path, got '\(path)'") }
            chunkCache = path
        }
        if let size = file.value("binary-cache-chunk-cache-size", in: "networkcache"), !size.isEmpty {
            guard let bytes = Self.parseHumanBytes(size) else {
                throw ConfigurationError("binary-cache-chunk-cache-size: cannot read '\(size)' as a size")
            }
            chunkCacheSize = bytes
        }
        if let text = file.value("binary-cache-chunk-connections", in: "networkcache"), !text.isEmpty {
            guard let count = Int(text.trimmingCharacters(in: .whitespaces)), (1...64).contains(count) else {
                throw ConfigurationError("binary-cache-chunk-connections: expected a number from 1 to 64, got '\(text)'")
            }
            chunkConnections = count
        }
        timeouts.connect = try Self.seconds("binary-cache-connect-timeout", in: file) ?? timeouts.connect
        timeouts.lowSpeedTime = try Self.seconds("binary-cache-low-speed-time", in: file) ?? timeouts.lowSpeedTime
    }

    /// The binary cache's endpoints, with the trust list and timeouts, for reading: a node
    /// that installs verifies entries and never signs one, so its private key is not read.
    public func downloadCache() throws -> NetworkCache {
        var reading = network
        reading.signaturePrivateKeyFile = nil
        return try NetworkCache(
            configuration: reading,
            cacheURLs: (network.downloadBinaryCacheURL, network.uploadBinaryCacheURL),
            dirURLs: (network.downloadBinaryDirURL, network.uploadBinaryDirURL),
            timeouts: timeouts)
    }

    /// The binary cache's endpoints with the signing key, for publishing: its entries are
    /// read back from the upload shadir when no download one is set.
    public func uploadCache() throws -> NetworkCache {
        try NetworkCache(
            configuration: network,
            cacheURLs: (network.downloadBinaryCacheURL, network.uploadBinaryCacheURL),
            dirURLs: (network.downloadBinaryDirURL ?? network.uploadBinaryDirURL, network.uploadBinaryDirURL),
            timeouts: timeouts)
    }

    private static func flag(_ key: String, in file: INIFile) throws -> Bool? {
        guard let text = file.value(key, in: "networkcache"), !text.isEmpty else { return nil }
        switch text.lowercased().trimmingCharacters(in: .whitespaces) {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigurationError("\(key): expected true or false, got '\(text)'")
        }
    }

    private static func seconds(_ key: String, in file: INIFile) throws -> Int? {
        guard let text = file.value(key, in: "networkcache"), !text.isEmpty else { return nil }
        guard let seconds = Int(text.trimmingCharacters(in: .whitespaces)), seconds > 0 else {
            throw ConfigurationError("\(key): expected a whole number of seconds, got '\(text)'")
        }
        return seconds
    }

    /// slapos.core's `human2bytes`: "1000M", "1 Gi", "0.5kilo", "12345".
    static func parseHumanBytes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return nil }
        let unit = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
        let exponents: [Character: Int] = ["b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6]
        guard let first = unit.first else { return Int(value) }
        guard let exponent = exponents[first] else { return nil }
        return Int(value * pow(1024, Double(exponent)))
    }
}
