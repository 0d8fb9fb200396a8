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
            With --file alone the data is only stored in shacache. With --url (and no --key)
            it is indexed under file-urlmd5:<md5(URL)> with "url" in its metadata; with --key,
            under that key. The entry is signed with signature-private-key-file. A --url that
            is a local directory is uploaded as a gzip tar of it.

            Prints "sha512: <hex>" and, when indexed, "key: <key>".
            """
    )

    @OptionGroup var client: ClientOptions

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

    func validate() throws {
        if url != nil && key != nil { throw ValidationError("--url and --key cannot be used together") }
        if file == nil && url == nil { throw ValidationError("either --file or --url is required") }
    }

    func run() throws {
        let cache = try client.networkCache()
        var temporary: URL?
        defer { temporary.map { try? FileManager.default.removeItem(at: $0) } }
        let path: String
        if let file {
            path = file
        } else {
            let url = url!
            temporary = try fetchToTemporaryFile(url)
            path = temporary!.path
        }
        guard url != nil || key != nil else {
            printFlushed("sha512: \(try cache.upload(file: path, key: nil, metadata: JSONObject()))")
            return
        }
        var fields = try loadMetadata()
        for pair in self.fields {
            guard let equal = pair.firstIndex(of: "=") else { throw ValidationError("metadata '\(pair)' is not KEY=VALUE") }
            fields[String(pair[..<equal])] = .string(String(pair[pair.index(after: equal)...]))
        }
        let indexKey: String
        if let key {
            indexKey = key
        } else {
            if fields["url"] == nil { fields["url"] = .string(url!) }
            indexKey = urlKey(url!)
        }
        let sha512 = try cache.upload(file: path, key: indexKey, metadata: fields)
        printFlushed("sha512: \(sha512)")
        printFlushed("key: \(indexKey)")
    }

    private func loadMetadata() throws -> JSONObject {
        guard let metadata else { return JSONObject() }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: metadata))))
        } catch {
            throw CommandError("\(metadata): \(error)")
        }
        guard let object = value.objectValue else { throw CommandError("Not a dictionary: \(metadata)") }
        return object
    }

    /// The data behind `--url`, fetched to a temporary file first, as upstream does; a
    /// local directory is archived (gzip tar of the directory, as upstream's `archive`).
    private func fetchToTemporaryFile(_ url: String) throws -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url, isDirectory: &isDirectory), isDirectory.boolValue {
            let archive = try DirectoryArchive.gzipTar(of: url, in: FileManager.default.temporaryDirectory.path)
            for (path, reason) in archive.excluded { printWarning("left out of the archive: \(path) (\(reason))") }
            return URL(fileURLWithPath: archive.path)
        }
        let destination = FileManager.default.temporaryDirectory.appendingPathComponent("netcache-upload-\(UUID().uuidString)")
        try URLFetcher.fetch(url, to: destination.path)
        return destination
    }
}
