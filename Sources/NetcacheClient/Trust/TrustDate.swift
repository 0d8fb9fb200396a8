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
