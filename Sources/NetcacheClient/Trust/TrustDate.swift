import FoundationEssentials

/// The dates trust documents and entries carry: ISO 8601, UTC, to the second.
public enum TrustDate {
    /// `2027-01-31T12:00:00Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// An ISO 8601 date-time with a zone (`2027-01-31T12:00:00Z`, `...+01:00`), or a date
    /// alone, read as midnight UTC.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(timeZone: .gmt)) { return date }
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)) { return date }
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day()) { return date }
        return nil
    }
}

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
