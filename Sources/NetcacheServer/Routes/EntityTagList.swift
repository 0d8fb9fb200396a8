/// An `If-Match`, `If-None-Match` or `If-Range` value as RFC 9110 (8.8.3, 13.1) spells it:
/// `*`, or a comma-separated list of entity tags, each `"opaque"` or weak `W/"opaque"`.
///
/// Parsed, not split on commas: an opaque tag may hold a comma. A value that does not parse
/// matches nothing.
struct EntityTagList: Equatable {
    struct Tag: Equatable {
        let opaque: Substring
        let weak: Bool
    }

    /// `*`: any current representation.
    let any: Bool
    let tags: [Tag]

    init?(_ value: String) {
        let trimmed = Self.trimmed(Substring(value))
        if trimmed == "*" {
            any = true
            tags = []
            return
        }
        any = false
        var tags: [Tag] = []
        var rest = trimmed
        while !rest.isEmpty {
            if rest.first == "," {
                rest = Self.trimmed(rest.dropFirst())
                continue
            }
            let weak = rest.hasPrefix("W/")
            if weak { rest = rest.dropFirst(2) }
            guard rest.first == "\"" else { return nil }
            let opaqueStart = rest.index(after: rest.startIndex)
            guard let close = rest[opaqueStart...].firstIndex(of: "\"") else { return nil }
            let opaque = rest[opaqueStart..<close]
            guard opaque.unicodeScalars.allSatisfy(Self.isTagCharacter) else { return nil }
            tags.append(Tag(opaque: opaque, weak: weak))
            rest = Self.trimmed(rest[rest.index(after: close)...])
            guard rest.isEmpty || rest.first == "," else { return nil }
        }
        self.tags = tags
    }

    /// Whether the list names the strong tag `opaque`. Weak comparison (for `If-None-Match`)
    /// accepts a weak tag of the same opaque value; strong comparison (for `If-Match` and
    /// `If-Range`) does not.
    func matches(_ opaque: String, weakly: Bool) -> Bool {
        tags.contains { $0.opaque == opaque && (weakly || !$0.weak) }
    }

    /// Without the optional whitespace (spaces and tabs) around it.
    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    /// etagc: `!`, `#` to `~`, and obs-text.
    private static func isTagCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "!" || (scalar.value >= 0x23 && scalar.value <= 0x7E) || scalar.value >= 0x80
    }
}
