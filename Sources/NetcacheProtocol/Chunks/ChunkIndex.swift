import FoundationEssentials

/// The signed description of a chunked release (`compression: chunks`): the tree's entries
/// and metadata, and its content cut into content-defined chunks, each stored once in
/// shacache whatever release it belongs to.
///
/// The content stream is every regular file's bytes, in entry order, with each occurrence
/// of the software_root the tree was built under (`from`) replaced by `placeholder`: the
/// same component built under two roots gives the same chunks, and a node writes its own
/// root back while it assembles the tree.
///
/// Stored as one zstd frame of compact JSON: a tree of 20,000 files indexes in about a
/// megabyte, held in memory whole while it installs (memory grows with the number of
/// files, not with their bytes).
public struct ChunkIndex: Sendable, Equatable {
    public static let placeholder: [UInt8] = Array("@SOFTWARE_ROOT@/".utf8)
    /// Stands for the release's own directory name after a placeholder: as long as an MD5.
    public static let releaseMarker: [UInt8] = Array("@@@@@@@@SOFTWARE_RELEASE@@@@@@@@".utf8)
    /// The format's version, refused when it is not this one.
    static let version = 1
    /// The largest decompressed index a node reads.
    public static let sizeLimit = 256 << 20
    /// The largest stored (compressed) index a node or a server reads.
    public static let blobSizeLimit = 64 << 20
    /// The largest chunk a node takes (the chunker cuts at 256 KiB).
    public static let chunkSizeLimit = 1 << 20

    /// software_root at publish, normalised.
    public var from: String
    public var chunks: [ChunkReference]
    public var entries: [ChunkIndexEntry]

    public init(from: String, chunks: [ChunkReference], entries: [ChunkIndexEntry]) {
        self.from = from
        self.chunks = chunks
        self.entries = entries
    }

    /// What each root occurrence adds to a file's size once written back: the root is
    /// written padded to the length of `from` (`RootRewrite`).
    public var rootGrowth: Int { from.utf8.count + 1 - Self.placeholder.count }

    /// The bytes of the content stream.
    public var contentLength: Int { chunks.reduce(0) { $0 + $1.size } }

    /// The bytes the chunks take in shacache, each counted once.
    public var storedSize: Int {
        var seen = Set<String>()
        return chunks.reduce(0) { seen.insert($1.blob).inserted ? $0 + $1.blobSize : $0 }
    }

    // MARK: Encoding

    /// The blob stored in shacache.
    public func encoded() throws -> [UInt8] {
        let chunkValues = chunks.map { chunk -> JSONValue in
            .array([.string(chunk.sha512), .integer(chunk.size), .string(chunk.blob), .integer(chunk.blobSize)])
        }
        let entryValues = entries.map { entry -> JSONValue in
            switch entry {
            case .directory(let path, let mode, let mtime):
                return .array([.string("d"), .string(path), .integer(Int(mode)), .integer(mtime)])
            case .file(let path, let mode, let mtime, let size, let length, let roots, let releases):
                return .array([
                    .string("f"), .string(path), .integer(Int(mode)), .integer(mtime), .integer(size), .integer(length),
                    .array(roots.map(JSONValue.integer)), .array(releases.map(JSONValue.integer)),
                ])
            case .symlink(let path, let mtime, let target, let roots, let releases):
                return .array([.string("l"), .string(path), .integer(mtime), .string(target), .array(roots.map(JSONValue.integer)), .array(releases.map(JSONValue.integer))])
            case .hardLink(let path, let to):
                return .array([.string("h"), .string(path), .string(to)])
            }
        }
        let document = JSONValue.object(JSONObject([
            ("netcache_chunk_index", .integer(Self.version)),
            ("from", .string(from)),
            ("placeholder", .string(String(decoding: Self.placeholder, as: UTF8.self))),
            ("chunks", .array(chunkValues)),
            ("entries", .array(entryValues)),
        ]))
        let text = Array(document.pythonJSON.utf8)
        return try text.withUnsafeBytes { try ZstdFrame.compress($0) }
    }

    // MARK: Decoding

    /// Reads and checks a stored index: every field typed, offsets in order and inside
    /// their bytes, sizes adding up, chunks covering exactly the files' content.
    public init(decoding blob: [UInt8]) throws(ChunkIndexError) {
        let text: [UInt8]
        do {
            text = try blob.withUnsafeBytes { (frame) throws(ZstdFrame.Failure) in try ZstdFrame.decompress(frame, limit: Self.sizeLimit) }
        } catch {
            throw ChunkIndexError("\(error)")
        }
        let document: JSONObject
        do {
            guard let object = try JSONValue(parsing: text).objectValue else { throw ChunkIndexError("not a JSON object") }
            document = object
        } catch let error as ChunkIndexError {
            throw error
        } catch {
            throw ChunkIndexError("\(error)")
        }
        guard case .integer(Self.version) = document["netcache_chunk_index"] else { throw ChunkIndexError("not version \(Self.version) of the format") }
        guard document["placeholder"]?.stringValue.map({ Array($0.utf8) }) == Self.placeholder else { throw ChunkIndexError("another placeholder") }
        guard let from = document["from"]?.stringValue, from.hasPrefix("/"), from.utf8.count > 1, !from.utf8.contains(0),
            Array(from.utf8).last != UInt8(ascii: "/")
        else { throw ChunkIndexError("no software_root it was built under") }
        self.from = from
        guard let chunkValues = document["chunks"]?.arrayValue, let entryValues = document["entries"]?.arrayValue else {
            throw ChunkIndexError("no chunks or entries")
        }
        chunks = try chunkValues.map(Self.chunk)
        let growth = from.utf8.count + 1 - Self.placeholder.count
        entries = try entryValues.map { (value) throws(ChunkIndexError) in try Self.entry(value, growth: growth) }
        guard case .directory(path: "", _, _)? = entries.first else { throw ChunkIndexError("the first entry is not the release directory") }
        var length = 0
        for case .file(_, _, _, _, let fileLength, _, _) in entries {
            length += fileLength
            guard length <= Int.max / 2 else { throw ChunkIndexError("content too long") }
        }
        guard length == contentLength else { throw ChunkIndexError("files hold \(length) bytes, chunks \(contentLength)") }
    }

    private static func chunk(_ value: JSONValue) throws(ChunkIndexError) -> ChunkReference {
        guard let items = value.arrayValue, items.count == 4, let sha512 = items[0].stringValue, isSHA512Hex(sha512),
            case .integer(let size) = items[1], (1...chunkSizeLimit).contains(size),
            let blob = items[2].stringValue, isSHA512Hex(blob),
            case .integer(let blobSize) = items[3], (1...(2 * chunkSizeLimit)).contains(blobSize)
        else { throw ChunkIndexError("a chunk that is not [sha512, size, blob, blob size]") }
        return ChunkReference(sha512: sha512.lowercased(), size: size, blob: blob.lowercased(), blobSize: blobSize)
    }

    private static func entry(_ value: JSONValue, growth: Int) throws(ChunkIndexError) -> ChunkIndexEntry {
        guard let items = value.arrayValue, let kind = items.first?.stringValue, items.count >= 3, let path = items[1].stringValue,
            !path.utf8.contains(0)
        else { throw ChunkIndexError("an entry that is not [kind, path, ...]") }
        guard !path.hasPrefix("/") else { throw ChunkIndexError("\(path.debugDescription): an absolute path") }
        func integer(_ index: Int, _ range: ClosedRange<Int>) throws(ChunkIndexError) -> Int {
            guard index < items.count, case .integer(let value) = items[index], range.contains(value) else {
                throw ChunkIndexError("\(path.debugDescription): field \(index) out of range")
            }
            return value
        }
        func substitutions(_ index: Int, within length: Int) throws(ChunkIndexError) -> (roots: [Int], releases: [Int]) {
            guard index == items.count - 2, let rootValues = items[index].arrayValue, let releaseValues = items[index + 1].arrayValue else {
                throw ChunkIndexError("\(path.debugDescription): no root offsets")
            }
            // Each offset checked as it is read, so that no sum below can overflow, and
            // membership by set: an index of millions of offsets decodes in linear time.
            var roots: [Int] = []
            var end = 0
            for value in rootValues {
                guard case .integer(let offset) = value, offset >= end, offset <= length - placeholder.count else {
                    throw ChunkIndexError("\(path.debugDescription): root offsets out of order or outside its bytes")
                }
                roots.append(offset)
                end = offset + placeholder.count
            }
            let rootSet = Set(roots)
            var releases: [Int] = []
            for value in releaseValues {
                guard case .integer(let offset) = value, rootSet.contains(offset), releases.last.map({ $0 < offset }) ?? true else {
                    throw ChunkIndexError("\(path.debugDescription): a release offset that is no root offset")
                }
                releases.append(offset)
            }
            end = 0
            for substitution in ChunkSubstitution.of(roots: roots, releases: releases) {
                guard substitution.offset >= end, substitution.offset <= length - substitution.normalised.count else {
                    throw ChunkIndexError("\(path.debugDescription): root offsets out of order or outside its bytes")
                }
                end = substitution.offset + substitution.normalised.count
            }
            return (roots, releases)
        }
        switch kind {
        case "d":
            guard items.count == 4 else { break }
            return .directory(path: path, mode: UInt32(try integer(2, 0...0o7777)), mtime: try integer(3, Int(Int32.min)...Int.max))
        case "f":
            guard items.count == 8, !path.isEmpty else { break }
            let length = try integer(5, 0...(Int.max / 4))
            let offsets = try substitutions(6, within: length)
            let size = try integer(4, 0...(Int.max / 4))
            guard size == length + offsets.roots.count * growth else { throw ChunkIndexError("\(path.debugDescription): size and length disagree") }
            return .file(
                path: path, mode: UInt32(try integer(2, 0...0o7777)), mtime: try integer(3, Int(Int32.min)...Int.max), size: size, length: length,
                roots: offsets.roots, releases: offsets.releases)
        case "l":
            guard items.count == 6, !path.isEmpty, let target = items[3].stringValue, !target.isEmpty, !target.utf8.contains(0) else { break }
            let offsets = try substitutions(4, within: target.utf8.count)
            return .symlink(path: path, mtime: try integer(2, Int(Int32.min)...Int.max), target: target, roots: offsets.roots, releases: offsets.releases)
        case "h":
            guard items.count == 3, !path.isEmpty, let to = items[2].stringValue, !to.isEmpty, !to.utf8.contains(0) else { break }
            return .hardLink(path: path, to: to)
        default:
            break
        }
        throw ChunkIndexError("\(path.debugDescription): not a directory, file, symlink or hard link entry")
    }

    /// The shacache addresses an index blob names, for a server that must keep them (the
    /// sweep) or carry them (bundles); empty for a blob that is not an index.
    public static func blobs(namedByIndex blob: [UInt8]) -> [String] {
        guard let index = try? ChunkIndex(decoding: blob) else { return [] }
        var seen = Set<String>()
        return index.chunks.compactMap { seen.insert($0.blob).inserted ? $0.blob : nil }
    }
}
