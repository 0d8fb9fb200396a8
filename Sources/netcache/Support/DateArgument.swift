import ArgumentParser
import FoundationEssentials
import NetcacheClient

/// `--expires DATE`: an ISO 8601 date (midnight UTC) or date-time with a zone.
struct DateArgument: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        guard let date = TrustDate.parse(argument) else { return nil }
        self.date = date
    }

    static var defaultValueDescription: String { "an ISO 8601 date or date-time, e.g. 2027-06-30 or 2027-06-30T12:00:00Z" }
}
