/// Whether an entry can run on this machine, and if not, why.
public enum Compatibility: Sendable, Equatable {
    case compatible(warning: String?)
    case incompatible(String)

    public var isCompatible: Bool {
        if case .compatible = self { return true }
        return false
    }

    /// The rules: same multiarch; same OS after SlapOS's normalisation; same software_root
    /// (as text: the tree holds absolute paths; an entry without it is accepted with a
    /// warning); and, where the entry records it, a C library no newer than ours.
    public init(entry: BinaryEntry, machine: Fingerprint) {
        guard entry.multiarch == machine.multiarch else {
            self = .incompatible("multiarch \(entry.multiarch), this machine is \(machine.multiarch)")
            return
        }
        guard Self.normalised(entry.os) == Self.normalised(machine.os.tuple) else {
            self = .incompatible("built on \(entry.os.joined(separator: " ")), this machine runs \(machine.os.tuple.joined(separator: " "))")
            return
        }
        var warning: String?
        if let root = entry.softwareRoot, !root.isEmpty {
            guard root == machine.softwareRoot else {
                self = .incompatible("built for software_root \(root), this machine uses \(machine.softwareRoot)")
                return
            }
        } else {
            warning = "entry does not record its software_root; assuming \(machine.softwareRoot)"
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
        self = .compatible(warning: warning)
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
