/// A symbol version name as ELF files carry it: `GLIBC_2.34`, `GLIBCXX_3.4.30`, `ZLIB_1.2.9`.
/// Versions of one family are ordered by their numbers; a name without numbers
/// (`GLIBC_PRIVATE`) is a family of its own.
struct SymbolVersion: Hashable, Comparable {
    let name: String
    let family: String
    let numbers: [Int]

    init(_ name: String) {
        self.name = name
        if let underscore = name.lastIndex(of: "_") {
            let tail = name[name.index(after: underscore)...]
            let parts = tail.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            if !tail.isEmpty, parts.allSatisfy({ $0 != nil }) {
                family = String(name[..<underscore])
                numbers = parts.map { $0! }
                return
            }
        }
        family = name
        numbers = []
    }

    static func < (lhs: SymbolVersion, rhs: SymbolVersion) -> Bool {
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        for index in 0..<max(lhs.numbers.count, rhs.numbers.count) {
            let (a, b) = (index < lhs.numbers.count ? lhs.numbers[index] : 0, index < rhs.numbers.count ? rhs.numbers[index] : 0)
            if a != b { return a < b }
        }
        return false
    }

    /// The newest version of each family among `names`, sorted.
    static func newestOfEachFamily(_ names: some Sequence<String>) -> [String] {
        var newest: [String: SymbolVersion] = [:]
        for version in names.map(SymbolVersion.init) where newest[version.family].map({ $0 < version }) ?? true {
            newest[version.family] = version
        }
        return newest.values.sorted().map(\.name)
    }
}
