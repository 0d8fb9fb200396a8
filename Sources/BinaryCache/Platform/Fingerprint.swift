import Foundation

/// What a binary release depends on: the OS distribution, the architecture as
/// `gcc -dumpmachine` names it, the C library, and the software_root its paths are built for.
public struct Fingerprint: Sendable, Equatable {
    public var os: OSRelease
    public var multiarch: String
    /// `["glibc", "2.36"]`.
    public var libc: [String]
    public var softwareRoot: String

    public init(os: OSRelease, multiarch: String, libc: [String], softwareRoot: String) {
        self.os = os
        self.multiarch = multiarch
        self.libc = libc
        self.softwareRoot = normalisedRoot(softwareRoot)
    }

    /// This machine's fingerprint, computed without a compiler (production machines have none).
    public static func current(softwareRoot: String, etcDirectory: String = "/etc") -> Fingerprint {
        Fingerprint(os: OSRelease(etcDirectory: etcDirectory), multiarch: currentMultiarch(), libc: currentLibc(), softwareRoot: softwareRoot)
    }

    /// Debian's multiarch tuple for the running kernel's machine, as `gcc -dumpmachine`
    /// prints it on Debian and its derivatives.
    static func currentMultiarch() -> String {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return multiarch(forMachine: machine)
    }

    static func multiarch(forMachine machine: String) -> String {
        switch machine {
        case "x86_64", "amd64": return "x86_64-linux-gnu"
        case "aarch64", "arm64": return "aarch64-linux-gnu"
        case "i386", "i486", "i586", "i686": return "i386-linux-gnu"
        case "armv7l", "armv8l": return "arm-linux-gnueabihf"
        case "armv6l", "armv5tel": return "arm-linux-gnueabi"
        case "ppc64le": return "powerpc64le-linux-gnu"
        case "s390x": return "s390x-linux-gnu"
        case "riscv64": return "riscv64-linux-gnu"
        case "mips64": return "mips64el-linux-gnuabi64"
        case "loongarch64": return "loongarch64-linux-gnu"
        default: return machine + "-linux-gnu"
        }
    }

    /// `confstr(_CS_GNU_LIBC_VERSION)` says "glibc 2.36"; other C libraries say nothing.
    static func currentLibc() -> [String] {
        var buffer = [CChar](repeating: 0, count: 64)
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return [] }
        let words = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
        guard words.count == 2 else { return [] }
        return ["glibc", String(words[1])]
    }
}
