import BigInt

/// A JSON value as Python's `json` module sees it.
///
/// shadir `info` strings are written by Python's `json.dumps` and filtered with Python's
/// comparison rules, so netcache keeps object members in document order, parses `NaN` and
/// `Infinity` as `json.loads` does, and keeps integers apart from floats.
/// Foundation's `JSONSerialization` does none of these.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    /// An integer beyond 64 bits: Python's ints have no limit, and compare exactly.
    case bigInteger(BigInt)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object whose members keep the order they were written in.
public struct JSONObject: Sendable, Equatable {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = []
        for (key, value) in members { self[key] = value }
    }

    /// Like a Python `dict`: assigning an existing key keeps its position. Keys compare by
    /// code point, as Python's do ("é" and "e\u{301}" are two keys).
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    public var keys: [String] { members.map(\.key) }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension JSONValue {
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}
