import Foundation
import NetcacheProtocol

/// buildout's download cache, for any build tool: a file is looked up under its key and
/// taken from shacache when a trusted entry has it, else from its origin; a file from the
/// origin is then uploaded and indexed, so that the next machine gets it from the cache.
///
/// A file appears under its name only once it is complete and has the expected checksum;
/// a cache that is down or holds something else is passed over with a warning.
public struct DownloadCache {
    public let cache: NetworkCache
    /// Told of each decision (`fetch --verbose`): the entries found, why each one is passed
    /// over, where the file comes from.
    public var explain: (String) -> Void = { _ in }

    public init(cache: NetworkCache) {
        self.cache = cache
    }

    /// Whether files from origins are filed: as buildout, only with both upload URLs.
    public var uploads: Bool { cache.shacache.uploadURL != nil && cache.shadir.uploadURL != nil }

    private var downloads: Bool { cache.shacache.downloadURL != nil && cache.shadir.downloadURL != nil }

    /// Fetches `url` into `path`. Without `expected`, the newest trusted entry for the URL
    /// wins; `useCache: false` goes to the origin at once (a branch head that moved).
    public func fetch(url: String, to path: String, expected: ExpectedChecksum?, useCache: Bool, warn: (String) -> Void) throws -> FetchSource {
        let key = DownloadKey.url(url)
        let expected = expected.map { [$0] } ?? []
        var reachable = true
        if useCache, downloads {
            let accepted = { (fields: JSONObject) in fields["url"]?.stringValue == url }
            switch try fromCache(key: key, accepting: accepted, to: { _ in path }, expected: expected, warn: warn) {
            case .hit(let sha512, _): return .cache(sha512: sha512)
            case .miss: break
            case .unreachable: reachable = false
            }
        }
        let sha512 = try fromOrigin(url, to: path, expected: expected)
        let filed = reachable && file(path, key: key, metadata: JSONObject([("url", .string(url))]), warn: warn)
        return .origin(sha512: sha512, filed: filed)
    }

    /// Fetches a Python distribution under its `basename` in `directory`, or into `output`:
    /// from the newest trusted `pypi:` entry, else from `index`. Returns the path written.
    public func fetch(
        pypi release: PackageRelease, into directory: String, output: String?, index: PackageIndex,
        expected: ExpectedChecksum?, useCache: Bool, warn: (String) -> Void
    ) throws -> (path: String, source: FetchSource) {
        let key = DownloadKey.pypi(release)
        let expected = expected.map { [$0] } ?? []
        let destination = { (basename: String) in output ?? (directory + "/" + basename) }
        var reachable = true
        if useCache, downloads {
            let accepted = { (fields: JSONObject) in fields["basename"]?.stringValue.map(Self.isPlainFileName) ?? false }
            let path = { (fields: JSONObject) in destination(fields["basename"]!.stringValue!) }
            switch try fromCache(key: key, accepting: accepted, to: path, expected: expected, warn: warn) {
            case .hit(let sha512, let path): return (path, .cache(sha512: sha512))
            case .miss: break
            case .unreachable: reachable = false
            }
        }
        let file = try index.distribution(of: release)
        guard Self.isPlainFileName(file.name) else { throw FetchError("\(release): the index names a file \(file.name)") }
        let path = destination(file.name)
        let indexed = file.sha256.flatMap(ExpectedChecksum.init(sha256:)).map { [$0] } ?? []
        let sha512 = try fromOrigin(file.url, to: path, expected: expected + indexed)
        let filed = reachable && self.file(path, key: key, metadata: JSONObject([("basename", .string(file.name))]), warn: warn)
        return (path, .origin(sha512: sha512, filed: filed))
    }

    /// A name an entry may make us write: no directory, nothing hidden or special.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0")
    }

    enum CacheLookup {
        case hit(sha512: String, path: String)
        case miss
        /// Said once through `warn`; filing into it would fail as well.
        case unreachable
    }

    /// Tries the trusted entries of `key` that `accepting` takes, newest first, writing the
    /// first good blob to the path `destination` names for its entry.
    func fromCache(
        key: String, accepting: (JSONObject) -> Bool, to destination: (JSONObject) -> String,
        expected: [ExpectedChecksum], warn: (String) -> Void
    ) throws -> CacheLookup {
        let entries: [JSONObject]
        do {
            entries = try cache.select(key: key)
        } catch let error as HTTPClientError {
            warn("cache unreachable (\(error)): fetching from the origin")
            return .unreachable
        }
        explain("\(entries.count) trusted entr\(entries.count == 1 ? "y" : "ies") under \(key), the newest first")
        for fields in entries.reversed() {
            guard let sha512 = fields["sha512"]?.stringValue else { continue }
            guard accepting(fields) else {
                explain("\(sha512.prefix(16))…: not taken: it is another file's (\(fields["url"]?.stringValue ?? fields["basename"]?.stringValue ?? "no url"))")
                continue
            }
            if expected.contains(where: { if case .sha512(let wanted) = $0 { wanted != sha512 } else { false } }) {
                explain("\(sha512.prefix(16))…: not taken: not the expected SHA-512")
                continue
            }
            explain("\(sha512.prefix(16))…: taking it")
            let path = destination(fields)
            let output = try OutputFile(path: path)
            let digests = FileDigests.Accumulator()
            do {
                try cache.shacache.download(sha512) { bytes in
                    digests.update(bytes)
                    try output.write(bytes)
                }
            } catch let error as HTTPClientError {
                output.discard()
                if error.kind == .transport || (error.status ?? 0) >= 500 {
                    warn("cache unreachable (\(error)): fetching from the origin")
                    return .unreachable
                }
                warn("cached copy \(sha512.prefix(16))… unusable (\(error))")
                continue
            }
            let actual = digests.finalize()
            if let wrong = expected.first(where: { !$0.matches(actual) }) {
                output.discard()
                warn("cached copy \(sha512.prefix(16))… has \(wrong.actual(in: actual)), not the expected \(wrong): passed over")
                continue
            }
            try output.commit()
            return .hit(sha512: sha512, path: path)
        }
        explain("nothing usable in the cache: from the origin")
        return .miss
    }

    /// Downloads `url` into `path`, checked against every `expected`; its SHA-512.
    func fromOrigin(_ url: String, to path: String, expected: [ExpectedChecksum]) throws -> String {
        let output = try OutputFile(path: path)
        let digests = FileDigests.Accumulator()
        do {
            try URLFetcher.fetch(url) { bytes in
                digests.update(bytes)
                try output.write(bytes)
            }
        } catch let error as HTTPClientError {
            throw FetchError("\(url): not in the cache, and the origin failed: \(error)")
        }
        let actual = digests.finalize()
        if let wrong = expected.first(where: { !$0.matches(actual) }) {
            throw FetchError("\(url): the origin sent \(wrong.actual(in: actual)), not the expected \(wrong); nothing written")
        }
        try output.commit()
        return actual.sha512
    }

    /// Uploads and indexes a file fetched from its origin, when uploads are configured; a
    /// failure is a warning, since the file itself is there.
    func file(_ path: String, key: String, metadata: JSONObject, warn: (String) -> Void) -> Bool {
        guard uploads else { return false }
        do {
            _ = try cache.upload(file: path, key: key, metadata: metadata)
            return true
        } catch {
            warn("fetched, but not filed in the cache: \(error)")
            return false
        }
    }
}
