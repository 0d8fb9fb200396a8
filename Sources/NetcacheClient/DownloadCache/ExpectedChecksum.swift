/// What a fetched file must hash to: buildout's `md5sum` (or `#md5=` in a URL), or a SHA-512.
public enum ExpectedChecksum: Sendable, Equatable, CustomStringConvertible {
    case md5(String)
    case sha512(String)
    /// What a package index says of a file.
    case sha256(String)

    /// Lowercase hex of the right length, or `nil`.
    public init?(md5 hex: String) {
        guard let hex = Self.hex(hex, length: 32) else { return nil }
        self = .md5(hex)
    }

    public init?(sha512 hex: String) {
        guard let hex = Self.hex(hex, length: 128) else { return nil }
        self = .sha512(hex)
    }

    public init?(sha256 hex: String) {
        guard let hex = Self.hex(hex, length: 64) else { return nil }
        self = .sha256(hex)
    }

    private static func hex(_ text: String, length: Int) -> String? {
        let lowered = text.lowercased()
        guard lowered.count == length, lowered.allSatisfy(\.isHexDigit) else { return nil }
        return lowered
    }

    /// Whether a file with these digests is the one expected.
    func matches(_ digests: FileDigests) -> Bool {
        switch self {
        case .md5(let expected): return expected == digests.md5
        case .sha512(let expected): return expected == digests.sha512
        case .sha256(let expected): return expected == digests.sha256
        }
    }

    /// The same kind of digest of another file, for messages.
    func actual(in digests: FileDigests) -> String {
        switch self {
        case .md5: return ExpectedChecksum.md5(digests.md5).description
        case .sha512: return ExpectedChecksum.sha512(digests.sha512).description
        case .sha256: return ExpectedChecksum.sha256(digests.sha256).description
        }
    }

    public var description: String {
        switch self {
        case .md5(let hex): return "MD5 \(hex)"
        case .sha512(let hex): return "SHA-512 \(hex.prefix(16))…"
        case .sha256(let hex): return "SHA-256 \(hex)"
        }
    }
}
