/// Whether an entry can run on this machine, and if not, why.
public enum Compatibility: Sendable, Equatable {
    case compatible(warning: String?)
    case incompatible(String)

    public var isCompatible: Bool {
        if case .compatible = self { return true }
        return false
    }

    /// Why not; `nil` when compatible.
    public var reason: String? {
        if case .incompatible(let reason) = self { return reason }
        return nil
    }

    /// The rules: same multiarch; same OS after SlapOS's normalisation; same software_root
    /// (normalised: the tree holds absolute paths; an entry without it is accepted with a
    /// warning), or one the entry can be relocated to; and, where the entry records it, a
    /// C library no newer than ours.
    public init(entry: BinaryEntry, machine: Fingerprint, relocate: Bool = true) {
        guard entry.multiarch == machine.multiarch else {
            self = .incompatible("multiarch \(entry.multiarch), this machine is \(machine.multiarch)")
            return
        }
        guard Self.normalised(entry.os) == Self.normalised(machine.os.tuple) else {
            self = .incompatible("built on \(entry.os.joined(separator: " ")), this machine runs \(machine.os.tuple.joined(separator: " "))")
            return
        }
        let root = Self.rootCheck(entry: entry, machine: machine, relocate: relocate)
        if let refusal = root.refusal {
            self = .incompatible(refusal)
            return
        }
        if let libc = entry.libc, libc.count == 2, machine.libc.count == 2 {
            guard libc[0] == machine.libc[0] else {
                self = .incompatible("needs \(libc[0]), this machine has \(machine.libc[0])")
                return
            }
            guard !Self.isNewer(libc[1], than: machine.libc[1]) else {
                self = .incompatible("needs \(libc[0]) \(libc[1]), this machine has \(machine.libc[1])")
                return
            }
        }
        self = .compatible(warning: root.warning)
    }

    /// The `abi` rule for an entry that records what it needs; `nil` for one that does not
    /// (a legacy entry), which keeps the distribution rule.
    static func byABI(entry: BinaryEntry, machine: Fingerprint, host: HostLibraries, relocate: Bool = true) -> Compatibility? {
        guard let abi = entry.abi else { return nil }
        guard entry.multiarch == machine.multiarch else {
            return .incompatible("multiarch \(entry.multiarch), this machine is \(machine.multiarch)")
        }
        if let elfMachine = abi.machine, let ours = ABIRecord.machine(ofMultiarch: machine.multiarch), elfMachine != ours {
            return .incompatible("its ELF files are for \(elfMachine), this machine is \(ours)")
        }
        if let refusal = rootCheck(entry: entry, machine: machine, relocate: relocate).refusal {
            return .incompatible(refusal)
        }
        for library in abi.libraries {
            guard let found = host.find(library.name, bits: abi.bits, machine: abi.machine) else {
                return .incompatible("needs \(library.name), which this machine's loader does not find")
            }
            if let missing = library.versions.first(where: { !found.image.versionsDefined.contains($0) }) {
                let family = SymbolVersion(missing).family
                let newest = SymbolVersion.newestOfEachFamily(found.image.versionsDefined).first { SymbolVersion($0).family == family }
                return .incompatible("needs \(missing) of \(library.name); \(found.path) \(newest.map { "has up to \($0)" } ?? "defines no \(family) version")")
            }
        }
        return .compatible(warning: nil)
    }

    /// Why an entry cannot go under this machine's software_root (`nil` when it can): where
    /// it was built, unless the entry is relocatable here; and a warning for an entry that
    /// does not say where it was built. Roots compare in their normalised spelling.
    static func rootCheck(entry: BinaryEntry, machine: Fingerprint, relocate: Bool) -> (refusal: String?, warning: String?) {
        let built: String?
        do {
            built = try entry.builtUnder()
        } catch {
            return (error.description, nil)
        }
        guard let built else { return (nil, "entry does not record its software_root; assuming \(machine.softwareRoot)") }
        guard built != machine.softwareRoot else { return (nil, nil) }
        let text = "built for software_root \(built), this machine uses \(machine.softwareRoot)"
        guard relocate else { return (text + " (binary-cache-relocate = false)", nil) }
        guard let relocation = entry.relocation else { return (text + "; the entry records no relocation", nil) }
        if let refusal = relocation.refusal { return (text + "; not relocatable: " + refusal, nil) }
        do {
            _ = try RootRewrite(from: built, to: machine.softwareRoot)
        } catch {
            return (text + "; " + error.description, nil)
        }
        return (nil, nil)
    }

    /// slapos.core's `_debianize`: lower-case name, raspbian is debian, Debian compares its
    /// major version only and ignores the codename; other distributions match exactly.
    static func normalised(_ os: [String]) -> [String] {
        guard os.count == 3 else { return os }
        var name = os[0].lowercased()
        var version = os[1]
        var codename = os[2]
        if name == "raspbian" { name = "debian" }
        if name == "debian" {
            version = String(version.split(separator: ".", omittingEmptySubsequences: false).first ?? "")
            codename = ""
        }
        return [name, version, codename]
    }

    static func isNewer(_ version: String, than other: String) -> Bool {
        let a = version.split(separator: ".").map { Int($0) ?? 0 }
        let b = other.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            if x != y { return x > y }
        }
        return false
    }
}
