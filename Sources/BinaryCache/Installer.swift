import Foundation
import NetcacheClient
import NetcacheProtocol

/// Installs a release from the binary cache: picks the first trusted, compatible entry,
/// streams download → SHA-512 check → decompression → safe extraction into a staging
/// directory beside the target, and moves it into place only when the hash matched and
/// extraction finished. On any failure nothing is left behind and the target is untouched.
public struct Installer {
    public let settings: BinaryCacheSettings

    /// Why there is nothing to install: the caller builds the release instead (exit 3).
    public struct BuildIt: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Installed {
        public let key: String
        public let entry: BinaryEntry
        public let path: String
        public let warnings: [String]
    }

    public init(settings: BinaryCacheSettings) {
        self.settings = settings
    }

    /// Installs, or throws `BuildIt` when the cache has nothing usable, or another error
    /// when something went wrong (a forced URL that cannot be installed is an error).
    public func install(softwareURL: String) throws -> Installed {
        let forced = settings.network.downloadFromBinaryCacheForceURLList.first { softwareURL.hasPrefix($0) }
        do {
            return try installUnforced(softwareURL: softwareURL)
        } catch let buildIt as BuildIt where forced != nil {
            throw ConfigurationError("binary cache forced for \(softwareURL) (\(forced!)), but: \(buildIt.description)")
        }
    }

    private func installUnforced(softwareURL: String) throws -> Installed {
        let md5 = BinaryEntry.legacyKey(softwareURL: softwareURL)
        let root = settings.softwareRoot
        let target = root + "/" + md5
        let network = settings.network
        if FileManager.default.fileExists(atPath: target) || (try? FileManager.default.destinationOfSymbolicLink(atPath: target)) != nil {
            throw BuildIt(description: "\(target) already exists")
        }
        let blacklist = network.downloadFromBinaryCacheURLBlacklist + network.binaryCacheURLBlacklist
        if let prefix = blacklist.first(where: { softwareURL.hasPrefix($0) }) {
            throw BuildIt(description: "\(softwareURL) is blacklisted for binary-cache downloads (\(prefix))")
        }
        guard network.downloadBinaryCacheURL != nil, network.downloadBinaryDirURL != nil else {
            throw BuildIt(description: "binary cache not configured (download-binary-cache-url, download-binary-dir-url)")
        }
        let lookup = try Lookup(settings: settings)
        guard !lookup.cache.trust.isEmpty else {
            throw BuildIt(description: "signature-certificate-list is empty: nothing in the binary cache is trusted")
        }
        let candidates = try lookup.entries(softwareURL: softwareURL)
        guard let chosen = candidates.first(where: { $0.verified && $0.compatibility.isCompatible }) else {
            let reasons = candidates.map { candidate -> String in
                if !candidate.verified { return "\(candidate.entry.format.rawValue) entry \(candidate.entry.sha512.prefix(12)): signature not trusted" }
                if case .incompatible(let why) = candidate.compatibility { return "\(candidate.entry.format.rawValue) entry \(candidate.entry.sha512.prefix(12)): \(why)" }
                return ""
            }
            let detail = reasons.isEmpty ? "no entry" : reasons.joined(separator: "; ")
            throw BuildIt(description: "nothing trusted and compatible in the binary cache for \(softwareURL): \(detail)")
        }
        var warnings: [String] = []
        if case .compatible(let warning?) = chosen.compatibility { warnings.append(warning) }
        try checkFreeSpace(root: root, needed: chosen.entry.unpackedSize ?? 0)
        try expand(chosen.entry, from: lookup.cache, top: md5, root: root, target: target)
        return Installed(key: chosen.key, entry: chosen.entry, path: target, warnings: warnings)
    }

    private func checkFreeSpace(root: String, needed: Int) throws {
        var info = statvfs()
        guard statvfs(root, &info) == 0 else { throw ConfigurationError("cannot stat file system of \(root): \(String(cString: strerror(errno)))") }
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        let required = max(needed, settings.minimumFreeSpace)
        guard available >= required else {
            throw ConfigurationError("not enough space in \(root): \(available >> 20) MiB available, \(required >> 20) MiB required (unpacked size, software_min_free_space)")
        }
    }

    func expand(_ entry: BinaryEntry, from cache: NetworkCache, top: String, root: String, target: String) throws {
        let staging = try StagingDirectory(in: root)
        defer { staging.remove() }
        let download = StreamedDownload(shacache: cache.shacache, sha512: entry.sha512)
        do {
            _ = try SafeExtractor(staging: staging, top: top, owner: try ownerWhenRoot(of: root)).extract(from: download.next)
            try download.finish()
        } catch {
            download.cancel()
            throw error
        }
        staging.sync()
        try staging.move(top, to: target)
    }

    /// As slapgrid does when run as root: the tree belongs to software_root's owner.
    private func ownerWhenRoot(of root: String) throws -> (uid: uid_t, gid: gid_t)? {
        guard getuid() == 0 else { return nil }
        var status = stat()
        guard stat(root, &status) == 0 else { throw ConfigurationError("cannot stat \(root): \(String(cString: strerror(errno)))") }
        return (status.st_uid, status.st_gid)
    }
}
