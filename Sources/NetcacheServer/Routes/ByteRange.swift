/// A `Range: bytes=...` header against a blob of known size (RFC 9110, 14.1.2). Only single
/// ranges are honoured; anything else, and anything that does not parse, is ignored and
/// the whole blob served, as 14.2 allows.
enum ByteRange: Equatable {
    case none
    case unsatisfiable
    case satisfiable(Range<Int>)

    init(header: String?, size: Int) {
        guard let header, let equals = header.firstIndex(of: "="),
            header[..<equals].lowercased() == "bytes"  // range units are case-insensitive
        else {
            self = .none
            return
        }
        let spec = header[header.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .none
            return
        }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Self.position(last) else {
                self = .none
                return
            }
            self = suffix == 0 || size == 0 ? .unsatisfiable : .satisfiable(max(0, size - suffix)..<size)
            return
        }
        guard let start = Self.position(first) else {
            self = .none
            return
        }
        var end = size - 1
        if !last.isEmpty {
            guard let requestedEnd = Self.position(last), requestedEnd >= start else {
                self = .none
                return
            }
            end = min(requestedEnd, size - 1)
        }
        self = start < size ? .satisfiable(start..<end + 1) : .unsatisfiable
    }

    /// Digits only (no sign, no space); a number too large for an `Int` lies past any blob.
    private static func position(_ digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(digits) ?? Int.max
    }
}
