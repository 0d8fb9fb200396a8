import ArgumentParser
import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol

struct UploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload data to shacache and index it in shadir (like networkcache-upload).",
        discussion: """
            With --file alone the data is only stored in shacache. With --url (and no --key) \
            it is indexed under file-urlmd5:<md5(URL)> with "url" in its metadata; with --key, \
            under that key. The entry is signed with signature-private-key-file. A --url that \
            is a local directory is uploaded as a gzip tar of it.

            Prints "sha512: <hex>" and, when indexed, "key: <key>".
            """
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var progress: ProgressOptions

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("Upload the contents of this file, overriding --url.", valueName: "file"))
    var file: String?

    @Option(name: [.customShort("u"), .customLong("url")], help: ArgumentHelp("Upload the data at this URL, unless --file is given; names the default key.", valueName: "url"))
    var url: String?

    @Option(name: [.customShort("k"), .customLong("key")], help: ArgumentHelp("Index under this key instead of file-urlmd5:<md5(URL)>; start it with 'SCHEME:'.", valueName: "key"))
    var key: String?

    @Option(name: [.customShort("m"), .customLong("metadata")], help: ArgumentHelp("A file holding a JSON object of shadir metadata.", valueName: "file.json"))
    var metadata: String?

    @Argument(help: ArgumentHelp("Extra metadata; values are strings.", valueName: "KEY=VALUE"))
    var fields: [String] = []

    /// In `run()`, so that a misspelt option is reported as such (`UsageError`).
    private func checkArguments() throws {
        if url != nil && key != nil { throw ValidationError("--url and --key cannot be used together") }
        if file == nil && url == nil { throw ValidationError("either --file or --url is required") }
        if let key, !Self.hasScheme(key) { throw ValidationError("--key takes SCHEME:NAME, such as test:\(key) or file-urlmd5:<md5>: '\(key)' has no scheme") }
    }

    func run() throws {
        try checkArguments()
        let display = progress.display()
        defer { display?.finish() }
        let cache = try client.networkCache()
        let index = try entryToFile()
        let key = index?.key
        let metadata = index?.metadata ?? JSONObject()
        // slapos.libnetworkcache refuses an entry of nothing but the SHA-512 as well.
        if key != nil && metadata.members.isEmpty {
            throw ValidationError("--key needs metadata: give KEY=VALUE pairs or --metadata FILE.json (an entry of the SHA-512 alone is refused, as by slapos.libnetworkcache)")
        }
        let sha512: String
        if let file {
            sha512 = try cache.upload(file: file, key: key, metadata: metadata)
        } else if let archive = try archiveIfDirectory(url!) {
            sha512 = archive.finish()
            try cache.upload(descriptor: archive.descriptor, size: archive.size, sha512: sha512, key: key, metadata: metadata)
        } else {
            let fetched = FileManager.default.temporaryDirectory.appendingPathComponent("netcache-upload-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: fetched) }
            try URLFetcher.fetch(url!, to: fetched.path)
            sha512 = try cache.upload(file: fetched.path, key: key, metadata: metadata)
        }
        display?.finish()
        try printFlushed("sha512: \(sha512)")
        if let key { try printFlushed("key: \(key)") }
    }

    /// Keys are filed by kind, as `file-urlmd5:`, `pypi:` and `netcache:` are: a key without
    /// one could be taken for the legacy binary cache's bare MD5s.
    private static func hasScheme(_ key: String) -> Bool {
        guard let colon = key.firstIndex(of: ":"), colon != key.startIndex, key.index(after: colon) != key.endIndex else { return false }
        return key[..<colon].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-+.".contains($0)) }
    }

    /// The key and metadata to index the data under; `nil` for `--file` alone, which only
    /// stores it.
    private func entryToFile() throws -> (key: String, metadata: JSONObject)? {
        guard url != nil || key != nil else { return nil }
        var fields = try loadMetadata()
        for pair in self.fields {
            guard let equal = pair.firstIndex(of: "=") else { throw ValidationError("metadata '\(pair)' is not KEY=VALUE") }
            fields[String(pair[..<equal])] = .string(String(pair[pair.index(after: equal)...]))
        }
        if let key { return (key, fields) }
        if fields["url"] == nil { fields["url"] = .string(url!) }
        return (DownloadKey.url(url!), fields)
    }

    private func loadMetadata() throws -> JSONObject {
        guard let metadata else { return JSONObject() }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: try fileContents(metadata))
        } catch {
            throw CommandError("\(metadata): \(error)")
        }
        guard let object = value.objectValue else { throw CommandError("\(metadata): not a JSON object") }
        return object
    }

    /// A local directory behind `--url` is uploaded as a gzip tar of it, as upstream's
    /// `archive` does; anything else is fetched from its origin.
    private func archiveIfDirectory(_ url: String) throws -> SpooledArchive? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let archive = try DirectoryArchive.gzipTar(of: url, in: FileManager.default.temporaryDirectory.path)
        for (path, reason) in archive.excluded { printWarning("left out of the archive: \(path) (\(reason))") }
        return archive.spool
    }
}
