import Foundation

/// A PEP 503 "simple" package index (PyPI's `https://pypi.org/simple`, or a mirror): a
/// project's page lists its files as links, with `#sha256=` fragments.
public struct PackageIndex: Sendable {
    public let url: String

    public init(url: String) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// One file a project page links to.
    public struct File: Sendable, Equatable {
        public let name: String
        public let url: String
        public let sha256: String?
    }

    /// The file of `release` buildout would build from: its source distribution (`.tar.gz`,
    /// then `.zip`, then `.tar.bz2`), else a pure-Python wheel. Yanked files are skipped.
    public func distribution(of release: PackageRelease) throws -> File {
        let page = "\(url)/\(Self.normalized(release.name))/"
        var html: [UInt8] = []
        do {
            try URLFetcher.fetch(page) { html.append(contentsOf: $0) }
        } catch let error as HTTPClientError {
            throw FetchError("\(release): not in the cache, and the package index failed: \(error)")
        }
        let files = Self.links(in: String(decoding: html, as: UTF8.self), page: page)
        let ranked = files.compactMap { file in Self.rank(of: file.name, release: release).map { (file, $0) } }
        guard let best = ranked.min(by: { $0.1 < $1.1 })?.0 else {
            throw FetchError("\(release): not in the cache, and \(page) lists no source distribution or pure wheel of version \(release.version)")
        }
        return best
    }

    /// PEP 503: runs of `-`, `_` and `.` are one `-`, letters lowercase.
    static func normalized(_ name: String) -> String {
        var result = ""
        var inSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !inSeparator { result.append("-") }
                inSeparator = true
            } else {
                result.append(character)
                inSeparator = false
            }
        }
        return result
    }

    private static let sourceExtensions = [".tar.gz", ".zip", ".tar.bz2"]

    /// Lower is better; `nil` for a file of another project or version, or of a platform.
    static func rank(of filename: String, release: PackageRelease) -> Int? {
        let name = normalized(release.name)
        for (rank, suffix) in sourceExtensions.enumerated() where filename.lowercased().hasSuffix(suffix) {
            let stem = filename.dropLast(suffix.count)
            guard stem.hasSuffix("-" + release.version) else { return nil }
            return normalized(String(stem.dropLast(release.version.count + 1))) == name ? rank : nil
        }
        // name-version(-build)?-python-abi-platform.whl
        guard filename.hasSuffix(".whl") else { return nil }
        let parts = filename.dropLast(4).split(separator: "-").map(String.init)
        guard parts.count >= 5, normalized(parts[0]) == name, parts[1] == release.version,
            parts[parts.count - 2] == "none", parts[parts.count - 1] == "any"
        else { return nil }
        return sourceExtensions.count
    }

    /// The `<a href="...">name</a>` links of a page, resolved against its URL, without the
    /// yanked ones.
    static func links(in html: String, page: String) -> [File] {
        let anchor = /<a\s([^>]*)>([^<]*)<\/a>/.ignoresCase()
        let href = /href\s*=\s*"([^"]*)"/.ignoresCase()
        let base = URL(string: page)
        return html.matches(of: anchor).compactMap { match in
            let attributes = String(match.1)
            guard !attributes.lowercased().contains("data-yanked"), let link = attributes.firstMatch(of: href) else { return nil }
            let target = String(link.1).replacingOccurrences(of: "&amp;", with: "&")
            guard let resolved = URL(string: target, relativeTo: base)?.absoluteURL else { return nil }
            var components = URLComponents(url: resolved, resolvingAgainstBaseURL: true)
            let fragment = components?.fragment
            components?.fragment = nil
            guard let fileURL = components?.string else { return nil }
            let sha256 = fragment.flatMap { $0.hasPrefix("sha256=") ? String($0.dropFirst(7)) : nil }
            let name = String(match.2).trimmingCharacters(in: .whitespacesAndNewlines)
            return File(name: name.isEmpty ? resolved.lastPathComponent : name, url: fileURL, sha256: sha256)
        }
    }
}
