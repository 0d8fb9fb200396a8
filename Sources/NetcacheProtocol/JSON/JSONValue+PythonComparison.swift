import BigInt

/// Python's comparison operators on values `json.loads` produced.
///
/// The download command's criteria (`version>=[4,2]`) compare with Python's rules:
/// `bool`, `int` and `float` compare as numbers, strings by code point, lists element by
/// element; ordering anything else raises `TypeError`, which the upstream filter treats
/// as "no match". `nil` here stands for that `TypeError`.
extension JSONValue {
    /// Python's `==`.
    public func pythonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.object(let a), .object(let b)):
            return a.members.count == b.members.count
                && a.members.allSatisfy { member in b[member.key].map { member.value.pythonEquals($0) } ?? false }
        default:
            if let a = numericValue, let b = other.numericValue { return a == b }
            return false
        }
    }

    /// Python's `<`, or `nil` where Python raises `TypeError`.
    public func pythonLess(_ other: JSONValue) -> Bool? {
        switch (self, other) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) {
                return x.pythonLess(y)
            }
            return a.count < b.count
        default:
            guard let a = numericValue, let b = other.numericValue else { return nil }
            return a.isLess(than: b)
        }
    }

    public func pythonGreater(_ other: JSONValue) -> Bool? { other.pythonLess(self) }

    public func pythonLessOrEqual(_ other: JSONValue) -> Bool? {
        switch (self, other) {
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) {
                return x.pythonLess(y)
            }
            return a.count <= b.count
        default:
            guard let less = pythonLess(other) else { return nil }
            return less || pythonEquals(other)
        }
    }

    public func pythonGreaterOrEqual(_ other: JSONValue) -> Bool? { other.pythonLessOrEqual(self) }

    private var numericValue: PythonNumber? {
        switch self {
        case .bool(let value): return .integer(value ? 1 : 0)
        case .integer(let value): return .integer(BigInt(value))
        case .bigInteger(let value): return .integer(value)
        case .double(let value): return .double(value)
        default: return nil
        }
    }
}

/// An `int` or a `float`, compared exactly as Python does (no rounding of large ints).
private enum PythonNumber: Equatable {
    case integer(BigInt)
    case double(Double)

    static func == (lhs: PythonNumber, rhs: PythonNumber) -> Bool {
        lhs.compare(rhs) == 0
    }

    func isLess(than other: PythonNumber) -> Bool {
        compare(other) == -1
    }

    /// -1, 0 or 1; `nil` when a NaN is involved (every comparison is then false).
    private func compare(_ other: PythonNumber) -> Int? {
        switch (self, other) {
        case (.integer(let a), .integer(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.double(let a), .double(let b)):
            if a.isNaN || b.isNaN { return nil }
            return a < b ? -1 : (a == b ? 0 : 1)
        case (.integer(let a), .double(let b)): return Self.compare(a, b)
        case (.double(let a), .integer(let b)): return Self.compare(b, a).map { -$0 }
        }
    }

    private static func compare(_ a: BigInt, _ b: Double) -> Int? {
        if b.isNaN { return nil }
        if b.isInfinite { return b > 0 ? -1 : 1 }
        let whole = b.rounded(.towardZero)
        let wholeInteger = BigInt(whole)
        if a != wholeInteger { return a < wholeInteger ? -1 : 1 }
        return whole == b ? 0 : (whole < b ? -1 : 1)
    }
}
