import NetcacheProtocol

/// The `abi` object of a netcache entry: what the release's ELF files need from outside
/// the tree, so that another distribution can tell whether it runs them.
public struct ABIRecord: Sendable, Equatable {
    /// 32 or 64; `nil` for a tree without an ELF file.
    public let bits: Int?
    /// `x86_64`, `aarch64`, ... (the ELF machine); `nil` for a tree without an ELF file.
    public let machine: String?
    /// Each library needed from outside the tree, with the newest version of each family
    /// needed of it (empty when unversioned), by name.
    public let libraries: [(name: String, versions: [String])]

    public static func == (lhs: ABIRecord, rhs: ABIRecord) -> Bool {
        lhs.bits == rhs.bits && lhs.machine == rhs.machine
            && lhs.libraries.map(\.name) == rhs.libraries.map(\.name) && lhs.libraries.map(\.versions) == rhs.libraries.map(\.versions)
    }

    init(bits: Int?, machine: String?, libraries: [(name: String, versions: [String])]) {
        self.bits = bits
        self.machine = machine
        self.libraries = libraries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    var json: JSONValue {
        var fields: [(key: String, value: JSONValue)] = []
        if let bits, let machine { fields += [("class", .string("ELF\(bits)")), ("machine", .string(machine))] }
        fields.append(("libraries", .object(JSONObject(libraries.map { (key: $0.name, value: .array($0.versions.map(JSONValue.string))) }))))
        return .object(JSONObject(fields))
    }

    init?(json: JSONValue) {
        guard let object = json.objectValue, let libraries = object["libraries"]?.objectValue else { return nil }
        let bits = object["class"]?.stringValue.flatMap { $0.hasPrefix("ELF") ? Int($0.dropFirst(3)) : nil }
        let machine = object["machine"]?.stringValue
        guard (bits == nil) == (machine == nil), (bits == nil) == (object["class"] == nil) else { return nil }
        var parsed: [(name: String, versions: [String])] = []
        for member in libraries.members {
            guard let versions = member.value.arrayValue?.compactMap(\.stringValue) else { return nil }
            parsed.append((member.key, versions))
        }
        self.init(bits: bits, machine: machine, libraries: parsed)
    }

    /// The ELF machine of a Debian multiarch tuple's CPU.
    static func machine(ofMultiarch multiarch: String) -> String? {
        let cpu = multiarch.split(separator: "-").first.map(String.init) ?? ""
        switch cpu {
        case "x86_64", "i386", "aarch64": return cpu
        case "arm": return "arm"
        case "powerpc64le", "powerpc64": return "ppc64"
        case "s390x": return "s390"
        case "riscv64": return "riscv"
        case "mips64el", "mipsel", "mips": return "mips"
        default: return nil
        }
    }

    /// The name of an ELF `e_machine`.
    static func machineName(_ number: Int) -> String {
        switch number {
        case 3: return "i386"
        case 8: return "mips"
        case 21: return "ppc64"
        case 22: return "s390"
        case 40: return "arm"
        case 62: return "x86_64"
        case 183: return "aarch64"
        case 243: return "riscv"
        default: return "EM_\(number)"
        }
    }
}
