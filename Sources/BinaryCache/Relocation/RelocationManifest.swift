import NetcacheProtocol

/// The `relocation` object of a netcache entry: where the software_root it was built under
/// occurs in the tree, by kind, so that install can move the tree under another
/// software_root without reading it again.
public struct RelocationManifest: Sendable, Equatable {
    /// software_root at publish; occurrences are of it followed by `/`.
    public var from: String
    /// Why the tree cannot be moved; `nil` when it can.
    public var refusal: String?
    /// Files without a NUL byte, rewritten whole.
    public var text: [String] = []
    /// ELF files and other binaries: offsets of NUL-terminated strings, rewritten in place
    /// and padded with NULs, so that no offset moves.
    public var elf: [String: [Int]] = [:]
    public var binary: [String: [Int]] = [:]
    /// Symlinks with an absolute target under `from`.
    public var symlinks: [String] = []
    /// Python bytecode holding `from`: dropped, Python compiles it again.
    public var bytecode: [String] = []

    public var isRelocatable: Bool { refusal == nil }

    public var isEmpty: Bool { text.isEmpty && elf.isEmpty && binary.isEmpty && symlinks.isEmpty && bytecode.isEmpty }

    init(from: String) {
        self.from = from
    }

    var json: JSONValue {
        func offsets(_ files: [String: [Int]]) -> JSONValue {
            .object(JSONObject(files.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { (key: $0, value: .array(files[$0]!.map(JSONValue.integer))) }))
        }
        func list(_ paths: [String]) -> JSONValue { .array(paths.map(JSONValue.string)) }
        return .object(JSONObject([
            ("from", .string(from)),
            ("relocatable", .bool(isRelocatable)),
            ("refusal", refusal.map(JSONValue.string) ?? .null),
            ("text", list(text)),
            ("elf", offsets(elf)),
            ("binary", offsets(binary)),
            ("symlinks", list(symlinks)),
            ("bytecode", list(bytecode)),
        ]))
    }

    init?(json: JSONValue) {
        guard let object = json.objectValue, let from = object["from"]?.stringValue, !from.isEmpty else { return nil }
        self.from = from
        refusal = object["refusal"]?.stringValue
        if object["relocatable"] == .bool(false), refusal == nil { refusal = "not relocatable" }
        func list(_ key: String) -> [String]? { object[key]?.arrayValue?.compactMap(\.stringValue) }
        func offsets(_ key: String) -> [String: [Int]]? {
            guard let files = object[key]?.objectValue else { return nil }
            var result: [String: [Int]] = [:]
            for member in files.members {
                result[member.key] = member.value.arrayValue?.compactMap { if case .integer(let value) = $0 { value } else { nil } } ?? []
            }
            return result
        }
        guard let text = list("text"), let elf = offsets("elf"), let binary = offsets("binary"), let symlinks = list("symlinks"),
            let bytecode = list("bytecode")
        else { return nil }
        (self.text, self.elf, self.binary, self.symlinks, self.bytecode) = (text, elf, binary, symlinks, bytecode)
    }
}
