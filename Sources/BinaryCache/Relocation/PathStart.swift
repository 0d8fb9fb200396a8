/// Where an occurrence of software_root counts: only where it starts a path, so that
/// `/srv/<root>/etc`, a longer path that merely ends like the root, is never rewritten.
///
/// A path starts at the start of a file, after a byte that cannot be part of a path (not a
/// letter, digit, `.`, `_`, `-`, `+` or `/`), and after the few prefixes that build tools
/// glue to a path: `-L`, `-I` and kin, which libtool files, pkg-config files and Python's
/// sysconfig hold by the hundred, the `//` of a `file://` URL and the `.` of `./<root>`.
/// In Python bytecode a path also starts a marshalled string, whose length (a byte that may
/// well be a letter) comes right before it.
enum PathStart {
    /// The longest prefix `counts` accepts; callers give it at least this many bytes
    /// before the occurrence, and one more.
    static let lookBehind = 11

    private static let gluedPrefixes: [[UInt8]] = ["-L", "-I", "-R", "-isystem", "-iquote", "-idirafter", "."].map { Array($0.utf8) }

    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// Whether an occurrence that does not start a path continues another one: the path
    /// bytes right before it hold a `/` (`/srv<root>`, `a//<root>`). Otherwise (`K<root>`,
    /// `x<root>`) it may be a path behind a length or another format's header.
    static func continuesAnotherPath<Bytes: BidirectionalCollection>(after before: Bytes) -> Bool where Bytes.Element == UInt8 {
        for byte in before.reversed() {
            guard isPathByte(byte) else { return false }
            if byte == UInt8(ascii: "/") { return true }
        }
        return false
    }

    /// Whether an occurrence of `length` bytes right after `before` starts a string that
    /// Python's marshal wrote (`.pyc`): a short string's type (`z`, `Z`) and one-byte
    /// length, or a string's type (`a`, `A`, `u`, `t`, `s`) and four-byte little-endian
    /// length, either type perhaps flagged as a reference (0x80), and a length that holds
    /// the occurrence.
    static func startsMarshalledString<Bytes: BidirectionalCollection>(after before: Bytes, length: Int) -> Bool where Bytes.Element == UInt8 {
        let bytes = Array(before.suffix(5))
        if bytes.count >= 2, [UInt8(ascii: "z"), UInt8(ascii: "Z")].contains(bytes[bytes.count - 2] & 0x7F), Int(bytes[bytes.count - 1]) >= length {
            return true
        }
        guard bytes.count == 5, "aAuts".utf8.contains(bytes[0] & 0x7F) else { return false }
        let declared = Int(bytes[1]) | Int(bytes[2]) << 8 | Int(bytes[3]) << 16 | Int(bytes[4]) << 24
        return declared >= length
    }

    /// Whether an occurrence right after `before` starts a path. `before` holds the bytes
    /// that precede it (up to `lookBehind + 1` of them); `atStart` says whether they begin
    /// the file.
    static func counts<Bytes: BidirectionalCollection>(after before: Bytes, atStart: Bool) -> Bool where Bytes.Element == UInt8 {
        var run: [UInt8] = []
        var index = before.endIndex
        while index > before.startIndex {
            let previous = before.index(before: index)
            guard isPathByte(before[previous]) else { break }
            run.insert(before[previous], at: 0)
            guard run.count <= lookBehind else { return false }
            index = previous
        }
        if run.isEmpty { return index > before.startIndex || atStart }
        let runStartsHere = index > before.startIndex || atStart
        guard runStartsHere else { return false }
        if gluedPrefixes.contains(run) { return true }
        if run == [UInt8(ascii: "/"), UInt8(ascii: "/")], index > before.startIndex {
            return before[before.index(before: index)] == UInt8(ascii: ":")
        }
        return false
    }
}
