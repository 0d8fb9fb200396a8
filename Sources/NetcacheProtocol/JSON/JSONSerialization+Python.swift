extension JSONValue {
    /// The text Python's `json.dumps(value)` writes: `", "` and `": "` separators,
    /// non-ASCII escaped, keys in their order. shadir `info` strings are written this way.
    public var pythonJSON: String {
        var output = ""
        write(to: &output, indent: nil, sortKeys: false, level: 0)
        return output
    }

    /// The text of Python's `json.dumps(value, indent=2, sort_keys=True)`, as the
    /// download command's `--list` prints it.
    public var pythonIndentedSortedJSON: String {
        var output = ""
        write(to: &output, indent: 2, sortKeys: true, level: 0)
        return output
    }

    private func write(to output: inout String, indent: Int?, sortKeys: Bool, level: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .double(let value): output += Self.pythonFloatRepr(value)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            guard !elements.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (position, element) in elements.enumerated() {
                Self.separate(position: position, indent: indent, level: level + 1, output: &output)
                element.write(to: &output, indent: indent, sortKeys: sortKeys, level: level + 1)
            }
            Self.close(indent: indent, level: level, output: &output)
            output += "]"
        case .object(let object):
            guard !object.members.isEmpty else {
                output += "{}"
                return
            }
            let members = sortKeys ? object.members.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) } : object.members
            output += "{"
            for (position, member) in members.enumerated() {
                Self.separate(position: position, indent: indent, level: level + 1, output: &output)
                Self.writeString(member.key, to: &output)
                output += ": "
                member.value.write(to: &output, indent: indent, sortKeys: sortKeys, level: level + 1)
            }
            Self.close(indent: indent, level: level, output: &output)
            output += "}"
        }
    }

    private static func separate(position: Int, indent: Int?, level: Int, output: inout String) {
        if let indent {
            output += position == 0 ? "\n" : ",\n"
            output += String(repeating: " ", count: indent * level)
        } else if position > 0 {
            output += ", "
        }
    }

    private static func close(indent: Int?, level: Int, output: inout String) {
        if let indent {
            output += "\n" + String(repeating: " ", count: indent * level)
        }
    }

    /// Python's `float.__repr__` and Swift's `description` both write the shortest text
    /// that reads back the same, in the same notation (`1e-05`, `1e+16`, `100.0`).
    static func pythonFloatRepr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }

    private static func writeString(_ value: String, to output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7E {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        appendEscape(0xD800 + (offset >> 10), to: &output)
                        appendEscape(0xDC00 + (offset & 0x3FF), to: &output)
                    } else {
                        appendEscape(scalar.value, to: &output)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    private static func appendEscape(_ unit: UInt32, to output: inout String) {
        let hex = String(unit, radix: 16)
        output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
