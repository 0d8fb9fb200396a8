import NetcacheProtocol

/// One filter of the download command: `KEY OP VALUE`, OP in `== <= >= < > << >>`.
///
/// Parsed as upstream's `NetworkcacheFilter`: split at the first operator, VALUE read as
/// `json.loads` reads it (`Infinity` included), compared with Python's rules.
public struct Criterion: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=="
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case less = "<"
        case greater = ">"
        /// Keep the entries with the lowest value below VALUE.
        case lowest = "<<"
        /// Keep the entries with the highest value above VALUE.
        case highest = ">>"
    }

    public let key: String
    public let op: Operator
    public let value: JSONValue

    public init(key: String, op: Operator, value: JSONValue) {
        self.key = key
        self.op = op
        self.value = value
    }

    public init(parsing text: String) throws {
        let scalars = Array(text.unicodeScalars)
        for index in scalars.indices {
            guard let op = Self.operatorStarting(at: index, in: scalars) else { continue }
            let key = String(String.UnicodeScalarView(scalars[..<index]))
            let valueText = String(String.UnicodeScalarView(scalars[(index + op.rawValue.count)...]))
            do {
                self.init(key: key, op: op, value: try JSONValue(parsing: valueText))
            } catch {
                throw ConfigurationError("invalid value in criterion '\(text)': \(error) (values are JSON: quote strings)")
            }
            return
        }
        throw ConfigurationError("Could not parse criterion: missing or invalid separator (\(text))")
    }

    /// The regex `(<<|>>|[<>]=?|==)` at one position: longest operator first.
    private static func operatorStarting(at index: Int, in scalars: [Unicode.Scalar]) -> Operator? {
        let first = scalars[index]
        let second: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
        switch (first, second) {
        case ("<", "<"): return .lowest
        case (">", ">"): return .highest
        case ("<", "="): return .lessOrEqual
        case (">", "="): return .greaterOrEqual
        case ("=", "="): return .equal
        case ("<", _): return .less
        case (">", _): return .greater
        default: return nil
        }
    }

    /// `op(entry_value, value)`, `nil` where Python raises `TypeError`.
    func compare(_ entryValue: JSONValue, with reference: JSONValue) -> Bool? {
        switch op {
        case .equal: return entryValue.pythonEquals(reference)
        case .lessOrEqual: return entryValue.pythonLessOrEqual(reference)
        case .greaterOrEqual: return entryValue.pythonGreaterOrEqual(reference)
        case .less, .lowest: return entryValue.pythonLess(reference)
        case .greater, .highest: return entryValue.pythonGreater(reference)
        }
    }
}

extension Array where Element == Criterion {
    /// Applies the criteria left to right, exactly as upstream's filter: each keeps only
    /// entries that have its key; `<<` and `>>` keep the entries tied for the best value.
    public func filter(_ entries: [JSONObject]) -> [JSONObject] {
        var entries = entries
        for criterion in self {
            entries = entries.filter { $0[criterion.key] != nil }
            if entries.isEmpty { break }
            switch criterion.op {
            case .lowest, .highest:
                var best: [JSONObject] = []
                var bound = criterion.value
                for entry in entries {
                    guard let value = entry[criterion.key] else { continue }
                    if criterion.compare(value, with: bound) == true {
                        best = [entry]
                        bound = value
                    } else if !best.isEmpty && value.pythonEquals(bound) {
                        best.append(entry)
                    }
                }
                entries = best
            default:
                entries = entries.filter { entry in entry[criterion.key].map { criterion.compare($0, with: criterion.value) == true } ?? false }
            }
        }
        return entries
    }
}
