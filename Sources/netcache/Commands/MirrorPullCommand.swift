import ArgumentParser
import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol
import NetcacheServer

struct MirrorPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch releases' binary-cache entries and download-cache keys ahead of time, verifying each.",
        discussion: """
            For each --software-url, the binary-cache entries of both keys (netcache:<md5> and \
            <md5>) that install would trust; for each --key, and each key of --keys-file (one per \
            line), the download-cache entries download takes. With signature-root-list set, the \
            roots' trust documents and timestamps are pulled too, unchanged, so that the nodes of \
            the site can check them. Every blob they name is downloaded and checked against its \
            SHA-512.

            Without --data, this goes through the caches slapos.cfg names: pointed at a mirror, it \
            fills the mirror. With --data, entries and blobs are written into that data directory \
            (which no server may be using), ready for `netcache export` or a server of its own.
            """
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var progress: ProgressOptions

    @Option(help: ArgumentHelp("A software release whose binary-cache entries to pull (repeatable).", valueName: "url"))
    var softwareURL: [String] = []

    @Option(name: [.customShort("k"), .customLong("key")], help: ArgumentHelp("A download-cache key to pull (repeatable), e.g. file-urlmd5:<md5>.", valueName: "key"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("A file of download-cache keys, one per line.", valueName: "file"))
    var keysFile: String?

    @Option(help: ArgumentHelp("Write into this data directory instead of only fetching through the configured caches.", valueName: "dir"))
    var data: String?

    /// In `run()`, so that a misspelt option is reported as such (`UsageError`).
    private func checkArguments() throws {
        if softwareURL.isEmpty && keys.isEmpty && keysFile == nil { throw ValidationError("give --software-url, --key or --keys-file") }
    }

    func run() async throws {
        try checkArguments()
        let configuration = try client.loadConfiguration()
        let binary = try BinaryCacheSettings(network: configuration).downloadCache()
        let downloads = try NetworkCache(configuration: configuration)
        for line in downloads.trustSettings.skipped { printWarning(line) }
        // Like import, it fills the cache of a site: its target may be new.
        let target = try data.map { try LocalDataDirectory(URL(fileURLWithPath: $0), create: true, option: "--data") }
        let fileKeys = try fileKeys()
        var jobs: [(cache: NetworkCache, key: String, trust: (any EntryTrust)?)] = []
        for (cache, wanted) in [(binary, !softwareURL.isEmpty), (downloads, !keys.isEmpty || !fileKeys.isEmpty)] where wanted {
            // Pulled as they are: every node checks them itself.
            jobs += try trustDocumentKeys(of: cache).map { (cache, $0, nil) }
        }
        let binaryTrust = softwareURL.isEmpty ? nil : try binary.entryTrust(emptyListTrustsAll: false)
        if let refusal = binaryTrust?.refusesEverything { printWarning("no binary-cache entry is trusted: \(refusal)") }
        for url in softwareURL {
            let md5 = BinaryEntry.legacyKey(softwareURL: url)
            jobs += [(binary, "netcache:" + md5, binaryTrust), (binary, md5, binaryTrust)]
        }
        let downloadTrust = keys.isEmpty && fileKeys.isEmpty ? nil : try downloads.entryTrust(emptyListTrustsAll: true)
        for key in keys + fileKeys { jobs.append((downloads, key, downloadTrust)) }
        var failures = 0
        let display = progress.display()
        defer { display?.finish() }
        for job in jobs {
            do {
                let (entries, blobs) = try await pull(job.key, from: job.cache, trust: job.trust, into: target)
                display?.clear()
                try printFlushed("\(job.key): \(entries) entries, \(blobs) blobs")
            } catch {
                failures += 1
                display?.clear()
                printWarning("\(job.key): \(error)")
            }
        }
        if failures > 0 { throw CommandError("\(failures) of \(jobs.count) keys could not be pulled") }
    }

    private func fileKeys() throws -> [String] {
        guard let keysFile else { return [] }
        let text: String
        do {
            text = try fileText(keysFile)
        } catch {
            throw CommandError("cannot read --keys-file \(keysFile): \(error)")
        }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The keys the roots' documents are filed under: those of the configured roots and of
    /// every root the chain reached.
    private func trustDocumentKeys(of cache: NetworkCache) throws -> [String] {
        let settings = cache.trustSettings
        guard !settings.roots.isEmpty else { return [] }
        let resolved = try TrustChain(settings: settings) { key in try cache.shadir.entries(for: key) }.resolve(at: Date(), remember: false)
        let roots = settings.roots.keys.map(\.keyID) + (resolved.document?.rootKeyIDs ?? [])
        return roots.reduce(into: [String]()) { keys, root in
            let key = TrustKeys.key(forRoot: root)
            if !keys.contains(key) { keys.append(key) }
        }
    }

    /// The entries of `key` that `trust` trusts (all of them without one) and their blobs;
    /// binary-cache keys trust nothing with an empty list, as install does, download-cache
    /// keys everything, as download does.
    private func pull(_ key: String, from cache: NetworkCache, trust: (any EntryTrust)?, into target: LocalDataDirectory?) async throws -> (Int, Int) {
        let now = Date()
        let statements = SignedStatement.group(try cache.shadir.entries(for: key), under: key)
        let trusted = statements.filter { trust?.verdict(on: $0, at: now).isTrusted ?? true }
        var blobs = 0
        for statement in trusted {
            guard let first = statement.entries.first, !first.namedBlobs.isEmpty else { continue }
            var named = first.namedBlobs
            // A chunked release's chunks come with its index, which the signed entry bounds.
            if first.namesChunkIndex, case .integer(let size)? = first.fields?["size"], size <= ChunkIndex.blobSizeLimit {
                let index = try ShacacheConnection(cache.shacache).download(named[0], size: size)
                named += ChunkIndex.blobs(namedByIndex: index)
            }
            for sha512 in named {
                if let target {
                    if try await !target.hasBlob(sha512) {
                        try await target.storeBlob(sha512) { sink in try cache.shacache.download(sha512, into: sink) }
                    }
                } else {
                    try cache.shacache.download(sha512) { _ in }
                }
                blobs += 1
            }
            for entry in statement.entries { try await target?.file(key: key, body: entry.body) }
        }
        return (trusted.count, blobs)
    }
}
