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
        if useCache, downloads {
            let accepted = { (fields: JSONObject) in fields["url"]?.stringValue == url }
            if let sha512 = try fromCache(key: key, accepting: accepted, to: { _ in path }, expected: expected, warn: warn) {
                return .cache(sha512: sha512)
            }
        }
        let sha512 = try fromOrigin(url, to: path, expected: expected)
        return .origin(sha512: sha512, filed: file(path, key: key, metadata: JSONObject([("url", .string(url))]), warn: warn))
    }

    /// Tries the trusted entries of `key` that `accepting` takes, newest first, writing the
    /// first good blob to the path `destination` names for its entry; its SHA-512, or `nil`
    /// when none would do or the cache is unreachable.
    func fromCache(
        key: String, accepting: (JSONObject) -> Bool, to destination: (JSONObject) throws -> String,
        expected: ExpectedChecksum?, warn: (String) -> Void
    ) throws -> String? {
        let entries: [JSONObject]
        do {
            entries = try cache.select(key: key)
        } catch let error as HTTPClientError {
            warn("cache unreachable (\(error)): fetching from the origin")
            return nil
        }
        for fields in entries.reversed() where accepting(fields) {
            let sha512 = fields["sha512"]!.stringValue!
            if case .sha512(let wanted) = expected, wanted != sha512 { continue }
            let output = try OutputFile(path: try destination(fields))
            let md5 = StreamingDigest.md5()
            do {
                try cache.shacache.download(sha512) { bytes in
                    md5.update(bytes)
                    try output.write(bytes)
                }
            } catch let error as HTTPClientError {
                output.discard()
                if error.kind == .transport || (error.status ?? 0) >= 500 {
                    warn("cache unreachable (\(error)): fetching from the origin")
                    return nil
                }
                warn("cached copy \(sha512.prefix(16))… unusable (\(error))")
                continue
            }
            let actualMD5 = md5.finalize()
            if let expected, !expected.matches(md5: actualMD5, sha512: sha512) {
                output.discard()
                warn("cached copy \(sha512.prefix(16))… has MD5 \(actualMD5), not the expected \(expected): passed over")
                continue
            }
            try output.commit()
            return sha512
        }
        return nil
    }

    /// Downloads `url` into `path`, checked against `expected`; its SHA-512.
    func fromOrigin(_ url: String, to path: String, expected: ExpectedChecksum?) throws -> String {
        let output = try OutputFile(path: path)
        let md5 = StreamingDigest.md5()
        let sha512 = StreamingDigest.sha512()
        do {
            try URLFetcher.fetch(url) { bytes in
                md5.update(bytes)
                sha512.update(bytes)
                try output.write(bytes)
            }
        } catch let error as HTTPClientError {
            throw FetchError("\(url): not in the cache, and the origin failed: \(error)")
        }
        let (actualMD5, actualSHA512) = (md5.finalize(), sha512.finalize())
        if let expected, !expected.matches(md5: actualMD5, sha512: actualSHA512) {
            let actual = if case .md5 = expected { "MD5 \(actualMD5)" } else { "SHA-512 \(actualSHA512.prefix(16))…" }
            throw FetchError("\(url): the origin sent \(actual), not the expected \(expected); nothing written")
        }
        try output.commit()
        return actualSHA512
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
