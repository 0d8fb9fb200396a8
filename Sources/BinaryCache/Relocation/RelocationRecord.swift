import NetcacheProtocol

/// The `relocation` object of a netcache entry, signed with it: the software_root the tree
/// was built under, whether it can move, and the manifest blob that lists where the root
/// occurs (`RelocationManifest`), by SHA-512 and size, so that it is verified before use
/// and read no further than signed.
public struct RelocationRecord: Sendable, Equatable {
    /// software_root at publish, normalised.
    public var from: String
    /// Why the tree cannot be moved; `nil` when it can.
    public var refusal: String?
    /// `nil` for a relocatable tree that does not name its root anywhere.
    public var manifest: ManifestBlob?

    public struct ManifestBlob: Sendable, Equatable {
        public let sha512: String
        public let size: Int
    }

    public var isRelocatable: Bool { refusal == nil }

    init(from: String, refusal: String?, manifest: ManifestBlob?) {
        self.from = from
        self.refusal = refusal
        self.manifest = manifest
    }

    var json: JSONValue {
        .object(JSONObject([
            ("from", .string(from)),
            ("relocatable", .bool(isRelocatable)),
            ("refusal", refusal.map(JSONValue.string) ?? .null),
            ("manifest", manifest.map { .object(JSONObject([("sha512", .string($0.sha512)), ("size", .integer($0.size))])) } ?? .null),
        ]))
    }

    /// `nil` for anything else, an inline manifest of earlier versions included: such an
    /// entry then records no relocation, and installs only under its own root.
    init?(json: JSONValue) {
        guard let object = json.objectValue, let from = object["from"]?.stringValue, from.hasPrefix("/"), !from.utf8.contains(0),
            let manifest = object["manifest"], case .bool(let relocatable) = object["relocatable"]
        else { return nil }
        self.from = normalisedRoot(from)
        refusal = relocatable ? nil : object["refusal"]?.stringValue ?? "not relocatable"
        switch manifest {
        case .null:
            self.manifest = nil
        case .object(let blob):
            guard let sha512 = blob["sha512"]?.stringValue, isSHA512Hex(sha512), case .integer(let size) = blob["size"], size > 0 else { return nil }
            self.manifest = ManifestBlob(sha512: sha512.lowercased(), size: size)
        default:
            return nil
        }
    }
}
