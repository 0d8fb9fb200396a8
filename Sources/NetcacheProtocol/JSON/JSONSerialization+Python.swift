import BigInt

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
        case .bigInteger(let value): output += value.description
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

    /// Python's `float.__repr__`: the shortest digits that read back the same (Swift's
    /// `description` finds them), laid out as Python does: positional notation while the
    /// decimal point falls between 10^-4 and 10^16, exponent notation outside.
    static func pythonFloatRepr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        let (digits, point) = shortestDigits(of: value.magnitude)
        let sign = value.sign == .minus ? "-" : ""
        if point <= -4 || point > 16 {
            let exponent = point - 1
            let mantissa = digits.count > 1 ? String(digits.first!) + "." + digits.dropFirst() : digits
            let exponentText = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (exponentText.count < 2 ? "0" : "") + exponentText
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    /// The significant digits of a positive double and where the decimal point goes:
    /// value = 0.DIGITS × 10^point.
    private static func shortestDigits(of value: Double) -> (String, Int) {
        if value == 0 { return ("0", 1) }
        let text = "\(value)"
        let parts = text.split(separator: "e")
        let exponent = parts.count > 1 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(mantissa[0])
        let fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
        var digits = whole + fraction
        var point = whole.count + exponent
        while digits.count > 1 && digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        return (digits, point)
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
