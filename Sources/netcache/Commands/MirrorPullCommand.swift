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
            <md5>) whose signature verifies against signature-certificate-list; for each --key, \
            and each key of --keys-file (one per line), the download-cache entries download takes. \
            Every blob they name is downloaded and checked against its SHA-512.

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
        for line in downloads.trust.skipped { printWarning(line) }
        // Like import, it fills the cache of a site: its target may be new.
        let target = try data.map { try LocalDataDirectory(URL(fileURLWithPath: $0), create: true, option: "--data") }
        var jobs: [(cache: NetworkCache, key: String, binary: Bool)] = []
        for url in softwareURL {
            let md5 = BinaryEntry.legacyKey(softwareURL: url)
            jobs += [(binary, "netcache:" + md5, true), (binary, md5, true)]
        }
        for key in try keys + fileKeys() { jobs.append((downloads, key, false)) }
        var failures = 0
        let display = progress.display()
        defer { display?.finish() }
        for job in jobs {
            do {
                let (entries, blobs) = try await pull(job.key, from: job.cache, binary: job.binary, into: target)
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

    /// The trusted entries of `key` and their blobs; binary-cache keys trust nothing with an
    /// empty list, as install does, download-cache keys everything, as download does.
    private func pull(_ key: String, from cache: NetworkCache, binary: Bool, into target: LocalDataDirectory?) async throws -> (Int, Int) {
        let trusted = try cache.shadir.entries(for: key).filter { entry in
            binary ? cache.trust.verifies(info: entry.info, signature: entry.signature) : cache.trust.isEmpty || cache.trust.verifies(info: entry.info, signature: entry.signature)
        }
        var blobs = 0
        for entry in trusted {
            let named = entry.namedBlobs
            guard !named.isEmpty else { continue }
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
            try await target?.file(key: key, body: entry.body)
        }
        return (trusted.count, blobs)
    }
}
