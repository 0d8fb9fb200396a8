import Foundation
import NetcacheProtocol

/// One binary-cache entry: a signed shadir entry describing an archive of a release tree.
///
/// Two layouts share the fields: legacy entries under `<md5(url)>` (gzip tars, read by
/// unmodified SlapOS nodes, fields in slapos.core's order) and netcache's own under
/// `netcache:<md5(url)>` (a chunk index, or a zstd tar from earlier versions, with the C
/// library and sizes).
public struct BinaryEntry: Sendable {
    public enum Format: String, Sendable {
        case gzip
        /// A whole-archive zstd tar, as netcache published before chunks.
        case zstd
        /// A chunk index (`ChunkIndex`): the release's chunks, stored once in shacache.
        case chunks
    }

    public var sha512: String
    public var softwareURL: String
    public var softwareRoot: String?
    public var multiarch: String
    public var os: [String]
    public var libc: [String]?
    public var format: Format
    public var size: Int?
    public var unpackedSize: Int?
    public var fileCount: Int?
    /// What the release's ELF files need from outside it (netcache entries only).
    public var abi: ABIRecord?
    /// Whether and how it moves to another software_root (netcache entries only).
    public var relocation: RelocationRecord?
    /// When it was signed, and until when it may be installed (netcache entries only; ISO
    /// 8601 UTC): an expired entry is not trusted.
    public var signedAt: String?
    public var expires: String?

    public static func legacyKey(softwareURL: String) -> String {
        StreamingDigest.md5Hex(of: softwareURL)
    }

    public static func netcacheKey(softwareURL: String) -> String {
        "netcache:" + legacyKey(softwareURL: softwareURL)
    }

    public init(
        sha512: String, softwareURL: String, softwareRoot: String?, multiarch: String, os: [String],
        libc: [String]?, format: Format, size: Int?, unpackedSize: Int?, fileCount: Int?, abi: ABIRecord? = nil,
        relocation: RelocationRecord? = nil, signedAt: String? = nil, expires: String? = nil
    ) {
        self.sha512 = sha512
        self.softwareURL = softwareURL
        self.softwareRoot = softwareRoot
        self.multiarch = multiarch
        self.os = os
        self.libc = libc
        self.format = format
        self.size = size
        self.unpackedSize = unpackedSize
        self.fileCount = fileCount
        self.abi = abi
        self.relocation = relocation
        self.signedAt = signedAt
        self.expires = expires
    }

    /// The metadata after `sha512`, in the order each layout writes it.
    public var metadata: JSONObject {
        var fields: [(String, JSONValue)] = [
            ("software_url", .string(softwareURL)),
            ("software_root", .string(softwareRoot ?? "")),
            ("multiarch", .string(multiarch)),
            ("os", .array(os.map(JSONValue.string))),
        ]
        if format != .gzip {
            fields.append(("libc", .array((libc ?? []).map(JSONValue.string))))
            fields.append(("compression", .string(format.rawValue)))
            if let size { fields.append(("size", .integer(size))) }
            if let unpackedSize { fields.append(("unpacked_size", .integer(unpackedSize))) }
            if let fileCount { fields.append(("file_count", .integer(fileCount))) }
            if let abi { fields.append(("abi", abi.json)) }
            if let relocation { fields.append(("relocation", relocation.json)) }
            if let signedAt { fields.append(("signed_at", .string(signedAt))) }
            if let expires { fields.append(("expires", .string(expires))) }
        }
        return JSONObject(fields.map { (key: $0.0, value: $0.1) })
    }

    /// Reads an entry's fields as slapos.core does, old layouts included: entries without
    /// `multiarch` but with `machine: x86_64` and `os` as a Python tuple repr are
    /// x86_64-linux-gnu. Entries under the legacy key are gzip whatever they claim.
    public init?(fields: JSONObject, legacyKey: Bool) {
        guard let sha512 = fields["sha512"]?.stringValue, isSHA512Hex(sha512) else { return nil }
        self.sha512 = sha512.lowercased()
        softwareURL = fields["software_url"]?.stringValue ?? ""
        softwareRoot = fields["software_root"]?.stringValue
        if let multiarch = fields["multiarch"]?.stringValue {
            self.multiarch = multiarch
            guard let os = fields["os"]?.arrayValue?.compactMap(\.stringValue), os.count == 3 else { return nil }
            self.os = os
        } else if fields["machine"]?.stringValue == "x86_64", let text = fields["os"]?.stringValue, let os = Self.parsePythonTuple(text), os.count == 3 {
            multiarch = "x86_64-linux-gnu"
            self.os = os
        } else {
            return nil
        }
        libc = fields["libc"]?.arrayValue?.compactMap(\.stringValue)
        if legacyKey {
            format = .gzip
        } else {
            guard let compression = fields["compression"]?.stringValue, let format = Format(rawValue: compression) else { return nil }
            self.format = format
        }
        func integer(_ key: String) -> Int? {
            if case .integer(let value) = fields[key] { return value }
            return nil
        }
        size = integer("size")
        unpackedSize = integer("unpacked_size")
        fileCount = integer("file_count")
        abi = legacyKey ? nil : fields["abi"].flatMap(ABIRecord.init(json:))
        relocation = legacyKey ? nil : fields["relocation"].flatMap(RelocationRecord.init(json:))
        signedAt = legacyKey ? nil : fields["signed_at"]?.stringValue
        expires = legacyKey ? nil : fields["expires"]?.stringValue
    }

    /// The software_root the tree was built under, normalised: `software_root`, or, where
    /// that is empty, the relocation's `from`; `nil` when it records neither. Throws when
    /// the two disagree: which one the tree's paths hold cannot be told.
    public func builtUnder() throws(RelocationRefused) -> String? {
        let root = softwareRoot.flatMap { $0.isEmpty ? nil : normalisedRoot($0) }
        if let root, let from = relocation?.from, from != root {
            throw RelocationRefused("software_root \(root) and relocation.from \(from) disagree")
        }
        return root ?? relocation?.from
    }

    /// `"('debian', '8.10', '')"` → `["debian", "8.10", ""]`.
    static func parsePythonTuple(_ text: String) -> [String]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("("), trimmed.hasSuffix(")") else { return nil }
        var items: [String] = []
        var rest = Substring(trimmed.dropFirst().dropLast())
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let quote = rest.first else { break }
            guard quote == "'" || quote == "\"" else { return nil }
            rest = rest.dropFirst()
            guard let end = rest.firstIndex(of: quote) else { return nil }
            items.append(String(rest[..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return items
    }
}
