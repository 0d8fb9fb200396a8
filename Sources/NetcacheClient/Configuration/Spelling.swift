/// The closest of known words to a misspelt one, for "did you mean" hints: configuration
/// keys, commands.
public enum Spelling {
    /// The known word nearest to `word`, when it is near enough to be what was meant: a
    /// quarter of its letters wrong, or two, at most.
    public static func nearest(to word: String, among known: [String]) -> String? {
        guard let (nearest, edits) = known.map({ ($0, distance($0, word)) }).min(by: { $0.1 < $1.1 }) else { return nil }
        return edits <= max(2, word.count / 4) ? nearest : nil
    }

    /// Levenshtein distance: the edits that turn one word into the other.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
