import Foundation
import NetcacheClient
import NetcacheProtocol

/// Installs a release from the binary cache: tries the trusted, compatible entries of the
/// release in turn (netcache's first), each streamed download → SHA-512 check →
/// decompression → safe extraction into a staging directory beside the target, moved into
/// place only when the hash matched and the tree is on disk. On any failure nothing is
/// left behind and the target is untouched.
///
/// A cache that cannot be reached, or that lost the blob, never stops a build: the caller
/// builds instead (`BuildIt`).
public struct Installer {
    public let settings: BinaryCacheSettings
    /// Whether an error installing a URL that is not forced means "build it" too, as in
    /// slapgrid, which builds whatever went wrong with the cache.
    public var buildOnError = false
    /// Told of each decision (`install --verbose`): every entry found and why it is or is not
    /// taken, each one tried, the one installed.
    public var explain: (String) -> Void = { _ in }
    /// Told of the files extracted so far, for a progress display.
    public var onExtracted: ((Int) -> Void)?

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
        } catch let buildIt as BuildIt {
            guard let forced else { throw buildIt }
            throw ConfigurationError("binary cache forced for \(softwareURL) (\(forced)), but: \(buildIt.description)")
        } catch where buildOnError && forced == nil && !(error is Interruption.Interrupted) {
            throw BuildIt(description: "\(error)")
        }
    }

    private func installUnforced(softwareURL: String) throws -> Installed {
        let md5 = BinaryEntry.legacyKey(softwareURL: softwareURL)
        let target = settings.softwareRoot + "/" + md5
        let network = settings.network
        try checkAbsent(target)
        let blacklist = network.downloadFromBinaryCacheURLBlacklist + network.binaryCacheURLBlacklist
        if let prefix = blacklist.first(where: { softwareURL.hasPrefix($0) }) {
            throw BuildIt(description: "\(softwareURL) is blacklisted for binary-cache downloads (\(prefix))")
        }
        guard network.downloadBinaryCacheURL != nil, network.downloadBinaryDirURL != nil else {
            throw BuildIt(description: "binary cache not configured (download-binary-cache-url, download-binary-dir-url)")
        }
        let cache = try settings.downloadCache()
        let lookup: Lookup
        let candidates: [Lookup.Candidate]
        do {
            lookup = try Lookup(settings: settings, cache: cache)
            if let refusal = lookup.refusesEverything { throw BuildIt(description: refusal) }
            candidates = try lookup.entries(md5: md5)
        } catch let error as HTTPClientError {
            throw BuildIt(description: "binary cache unreachable: \(error)")
        }
        explain("\(candidates.count) entr\(candidates.count == 1 ? "y" : "ies") for \(softwareURL) (\(md5)) in \(network.downloadBinaryDirURL ?? "")")
        for candidate in candidates {
            let name = "\(candidate.key) \(candidate.entry.format.rawValue) \(candidate.entry.sha512.prefix(12))"
            explain("\(name): " + (candidate.refusal.map { "not taken: " + $0 } ?? "installable"))
        }
        // Within each key, entries built under this very root before those that must move.
        let keys = candidates.map(\.key).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let installable = keys.flatMap { key in
            let ofKey = candidates.filter { $0.key == key && $0.installable }
            return ofKey.filter { $0.relocatedFrom == nil } + ofKey.filter { $0.relocatedFrom != nil }
        }
        guard !installable.isEmpty else {
            let reasons = candidates.map { "\($0.entry.format.rawValue) entry \($0.entry.sha512.prefix(12)): \($0.refusal ?? "")" }
            let detail = reasons.isEmpty ? "no entry" : reasons.joined(separator: "; ")
            throw BuildIt(description: "nothing trusted and compatible in the binary cache for \(softwareURL): \(detail)")
        }

        let root = try SoftwareRoot(path: settings.softwareRoot)
        let lock = try root.lock(release: md5)
        defer { withExtendedLifetime(lock) {} }
        // Another install may have finished while this one waited.
        try checkAbsent(target)
        try root.removeLeftovers()
        return try installFirstThatWorks(installable, from: cache.shacache, md5: md5, root: root, target: target)
    }

    /// Tries the entries in turn. A lost blob or an unreachable cache leaves the next entry,
    /// then "build it"; so does a blob that is not what its entry signed, or a relocation
    /// that the tree contradicts, but those are an error if none installs. Any other
    /// failure is the release's own, and final.
    private func installFirstThatWorks(_ installable: [Lookup.Candidate], from shacache: ShacacheClient, md5: String, root: SoftwareRoot, target: String) throws -> Installed {
        var warnings: [String] = []
        var unavailable: [String] = []
        var corrupt: (any Error)?
        for (index, candidate) in installable.enumerated() {
            let name = "\(candidate.entry.format.rawValue) entry \(candidate.entry.sha512.prefix(12))"
            let failure: any Error
            explain("trying \(candidate.key) \(name)")
            do {
                // A manifest to fetch is spooled in software_root too.
                let manifest = candidate.relocatedFrom == nil ? 0 : candidate.entry.relocation?.manifest?.size ?? 0
                try checkFreeSpace(root: root, needed: (candidate.entry.unpackedSize ?? 0) + manifest)
                if let warning = try expand(candidate.entry, from: shacache, top: md5, root: root, target: target) {
                    warnings.append(warning)
                }
                if case .compatible(let warning?) = candidate.compatibility { warnings.append(warning) }
                explain("installed \(candidate.key) \(name) into \(target)")
                return Installed(key: candidate.key, entry: candidate.entry, path: target, warnings: warnings)
            } catch let error as HTTPClientError where error.kind != .invalidResponse {
                unavailable.append("\(name): \(error)")
                failure = error
            } catch let error as HTTPClientError {
                corrupt = corrupt ?? error
                failure = error
            } catch let error as StreamedDownload.SignedSizeExceeded {
                corrupt = corrupt ?? error
                failure = error
            } catch let error as RelocationRefused {
                let refused = RelocationRefused("\(candidate.key) \(name): \(error)")
                corrupt = corrupt ?? refused
                failure = error
            } catch let error as ChunkIndexError {
                corrupt = corrupt ?? ChunkIndexError("\(candidate.key) \(name): \(error.description.dropFirst("chunk index: ".count))")
                failure = error
            }
            explain("\(name) not installed: \(failure)")
            warnings.append("\(name): \(failure)" + (index < installable.count - 1 ? "; trying the next entry" : ""))
        }
        if let corrupt { throw corrupt }
        throw BuildIt(description: "binary cache unavailable: \(unavailable.joined(separator: "; "))")
    }

    private func checkAbsent(_ target: String) throws {
        var status = stat()
        if lstat(target, &status) == 0 { throw BuildIt(description: "\(target) is already there, installed or built before; nothing was changed") }
    }

    private func checkFreeSpace(root: SoftwareRoot, needed: Int) throws {
        var info = statvfs()
        guard fstatvfs(root.descriptor, &info) == 0 else { throw ConfigurationError("cannot stat file system of \(root.path): \(String(cString: strerror(errno)))") }
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        let required = max(needed, settings.minimumFreeSpace)
        guard available >= required else {
            throw ConfigurationError("not enough space in \(root.path): \(available >> 20) MiB available, \(required >> 20) MiB required (unpacked size, software_min_free_space)")
        }
    }

    /// Expands one entry into place; returns a warning when the release is in place but its
    /// new name may not be on disk yet.
    func expand(_ entry: BinaryEntry, from shacache: ShacacheClient, top: String, root: SoftwareRoot, target: String) throws -> String? {
        if entry.format == .chunks { return try expandChunks(entry, from: shacache, top: top, root: root, target: target) }
        // A tree that must move brings its manifest first: a bad one refuses the entry
        // before its archive is fetched.
        let relocation = try RelocationPlan.make(for: entry, to: settings.softwareRoot)
        let manifest = try relocation?.manifest.map { blob in
            let manifest = try ManifestDownload(blob, from: shacache, in: root.descriptor, directoryPath: root.path)
            try manifest.validate()
            return manifest
        }
        // Entries that sign their sizes are bounded by them; the others by the free space.
        let budget = ExtractionBudget(
            entries: entry.fileCount, bytes: entry.unpackedSize,
            freeSpaceFloor: entry.unpackedSize == nil ? settings.minimumFreeSpace : 0, root: root.path)
        let owner = try ownerWhenRoot(of: root)
        let download = StreamedDownload(shacache: shacache, sha512: entry.sha512, size: entry.size)
        // However the expansion ends, its download ends too (within a second, even stalled).
        defer { download.cancel() }
        // From the staging directory's creation to its removal, a signal stops the work
        // instead of the process.
        try Interruption.stoppable(stop: download.interrupt) {
            let staging: StagingDirectory
            do {
                staging = try root.makeStagingDirectory()
            } catch {
                download.cancel()
                throw error
            }
            defer { staging.remove() }
            var extractor = SafeExtractor(staging: staging, top: top, owner: owner, budget: budget, durability: settings.durability)
            extractor.onEntry = onExtracted
            let tree: TreeWriter
            do {
                tree = try extractor.extract(from: download.next)
            } catch {
                try Self.stopIfInterrupted(download)
                throw try Self.verdict(on: error, of: entry, download: download)
            }
            do {
                do {
                    try download.finish()
                } catch {
                    try Self.stopIfInterrupted(download)
                    throw error
                }
                try Interruption.check()
                // Before directories get their modes: a read-only one must still take a
                // rewritten symlink.
                if let relocation, let manifest {
                    try TreeRelocator(rewrite: relocation.rewrite, syncFiles: settings.durability == .files)
                        .apply(manifest, staging: staging.descriptor, top: top)
                }
                try tree.finish()
            } catch {
                tree.cancel()
                throw error
            }
            try moveIntoPlace(staging, top: top, target: target)
        }
        return flushed(root)
    }

    /// Moves a finished tree from staging to its target, unless a signal came or another
    /// process put something there meanwhile.
    func moveIntoPlace(_ staging: StagingDirectory, top: String, target: String) throws {
        try Interruption.check()
        do {
            try staging.move(top, to: target)
        } catch is StagingDirectory.TargetExists {
            throw BuildIt(description: "\(target) is already there, installed or built before; nothing was changed")
        }
    }

    /// Makes the move durable; a warning when it may not be.
    func flushed(_ root: SoftwareRoot) -> String? {
        guard fsync(root.descriptor) == 0 else {
            return "installed, but \(root.path) could not be flushed after the move: \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// A signal wakes the extraction through the download, whose error then is not the
    /// reason: the signal is.
    private static func stopIfInterrupted(_ download: StreamedDownload) throws {
        guard (try? Interruption.check()) == nil else { return }
        download.cancel()
        try Interruption.check()
    }

    /// What an extraction that failed on its own means: a blob that is not what its entry
    /// signed can look hostile or broken, so the download is read on to tell (for at most
    /// 1 GiB more when no size was signed). Only a verified archive's faults are its own;
    /// and when the download breaks meanwhile, the extraction's failure stands.
    private static func verdict(on failure: any Error, of entry: BinaryEntry, download: StreamedDownload) throws -> any Error {
        if failure is HTTPClientError || failure is StreamedDownload.SignedSizeExceeded { return failure }
        do {
            try download.finish(readingAtMost: entry.size == nil ? 1 << 30 : .max)
        } catch let error as HTTPClientError where error.kind == .invalidResponse {
            return error
        } catch let error as StreamedDownload.SignedSizeExceeded {
            return error
        } catch {
            try stopIfInterrupted(download)
        }
        return failure
    }

    /// As slapgrid does when run as root: the tree belongs to software_root's owner.
    func ownerWhenRoot(of root: SoftwareRoot) throws -> (uid: uid_t, gid: gid_t)? {
        guard getuid() == 0 else { return nil }
        var status = stat()
        guard fstat(root.descriptor, &status) == 0 else { throw ConfigurationError("cannot stat \(root.path): \(String(cString: strerror(errno)))") }
        return (status.st_uid, status.st_gid)
    }
}
