import ArgumentParser

/// A size in bytes, written as bytes or with a K, M, G or T suffix (powers of 1024), an
/// optional B after it: `16G`, `512KB`, `1048576`.
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    let bytes: Int
    let description: String

    init?(argument: String) {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = argument.uppercased()
        var multiplier = 1
        if digits.hasSuffix("B") { digits.removeLast() }
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits.removeLast()
        }
        // A size that does not fit in 64 bits is refused, not wrapped round.
        guard let value = Int(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        self.bytes = bytes
        description = argument
    }
}
