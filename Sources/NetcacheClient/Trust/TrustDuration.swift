import FoundationEssentials

/// A validity period: a whole number followed by `s`, `m`, `h` or `d` (`30s`, `15m`, `12h`, `7d`).
public struct TrustDuration: Sendable, Equatable {
    public let seconds: Int

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last, let count = Int(trimmed.dropLast()), count > 0 else { return nil }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: scale)
        guard !overflow, product <= 3650 * 86400 else { return nil }
        seconds = product
    }
}
