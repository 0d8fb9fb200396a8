import ArgumentParser
import Foundation
import NetcacheClient

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a file through the download cache, as buildout does.",
        discussion: """
            Looks the URL up under file-urlmd5:<md5(URL)> and takes the blob of the newest trusted \
            entry for that URL, or the one whose content has the expected checksum. On a miss, a \
            mismatch or an unreachable cache, downloads from the origin (redirects followed; an HTTP \
            error is an error, never content), checks the expected checksum, and, when both \
            upload-cache-url and upload-dir-url are set, uploads the file and files a signed entry, \
            so that the next machine gets it from the cache.

            With --pypi NAME==VERSION the key is pypi:NAME=VERSION, the file is written under the \
            entry's basename, and the origin is the package index (--index): the version's source \
            distribution, else a pure-Python wheel, checked against the index's SHA-256.

            The file appears at its name only once complete and checked. Prints "PATH: from the \
            cache" or "PATH: from the origin" (", filed in the cache" when uploaded).
            """
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var progress: ProgressOptions

    @Argument(help: ArgumentHelp("URL of the file.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("A Python distribution instead of a URL.", valueName: "NAME==VERSION"))
    var pypi: PackageRelease?

    @Option(help: ArgumentHelp("The PEP 503 package index --pypi falls back to.", valueName: "url"))
    var index = "https://pypi.org/simple"

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the file here (default: the URL's last path component, or the distribution's file name, in the current directory).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("The file's expected MD5 (buildout's md5sum): a copy that differs is never used.", valueName: "hex"), transform: Self.md5)
    var md5: ExpectedChecksum?

    @Option(help: ArgumentHelp("The file's expected SHA-512.", valueName: "hex"), transform: Self.sha512)
    var sha512: ExpectedChecksum?

    @Flag(help: "Download from the origin even when the cache has the URL (a branch head that moved).")
    var noCache = false

    /// In `run()`, so that a misspelt option is reported as such (`UsageError`).
    private func checkArguments() throws {
        if (url == nil) == (pypi == nil) { throw ValidationError("give a URL or --pypi NAME==VERSION") }
        if md5 != nil && sha512 != nil { throw ValidationError("give --md5 or --sha512, not both") }
    }

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Say on stderr the entries found, why each one is passed over, and where the file comes from.")
    var verbose = false

    @Flag(help: "Print one JSON document instead: the path, where it came from, whether it was filed, its size and sha512, and the seconds taken.")
    var json = false

    func run() throws {
        try checkArguments()
        let display = progress.display()
        defer { display?.finish() }
        var summary = JSONSummary()
        var downloads = DownloadCache(cache: try client.networkCache())
        if verbose {
            downloads.explain = { line in
                display?.clear()
                StandardError.write("netcache: \(line)\n")
            }
        }
        let path: String
        let source: FetchSource
        if let pypi {
            summary.add("pypi", pypi.description)
            (path, source) = try downloads.fetch(
                pypi: pypi, into: FileManager.default.currentDirectoryPath, output: output, index: PackageIndex(url: index),
                expected: md5 ?? sha512, useCache: !noCache, warn: printWarning)
        } else {
            let url = url!
            summary.add("url", url)
            path = try output ?? Self.defaultName(of: url)
            source = try downloads.fetch(url: url, to: path, expected: md5 ?? sha512, useCache: !noCache, warn: printWarning)
        }
        display?.finish()
        guard json else {
            try printFlushed("\(path): \(source.summary)")
            return
        }
        summary.add("path", path)
        let (origin, sha512, filed) =
            switch source {
            case .cache(let sha512): ("cache", sha512, false)
            case .origin(let sha512, let filed): ("origin", sha512, filed)
            }
        summary.add("source", origin)
        summary.add("filed", .bool(filed))
        summary.add("sha512", sha512)
        var status = stat()
        summary.add("size", stat(path, &status) == 0 ? Int(status.st_size) : nil)
        try summary.print()
    }

    /// The last component of the URL's path, as `wget` and `curl -O` name it.
    static func defaultName(of url: String) throws -> String {
        let path = URLComponents(string: url)?.path ?? ""
        let name = pathComponents(path).last ?? ""
        guard isPlainComponent(name) else { throw ValidationError("\(url) names no file: give -o") }
        return name
    }

    static func md5(_ text: String) throws -> ExpectedChecksum {
        guard let checksum = ExpectedChecksum(md5: text) else { throw ValidationError("--md5 takes 32 hex digits") }
        return checksum
    }

    static func sha512(_ text: String) throws -> ExpectedChecksum {
        guard let checksum = ExpectedChecksum(sha512: text) else { throw ValidationError("--sha512 takes 128 hex digits") }
        return checksum
    }
}

extension FetchSource {
    var summary: String {
        switch self {
        case .cache: return "from the cache"
        case .origin(_, let filed): return filed ? "from the origin, filed in the cache" : "from the origin"
        }
    }
}
