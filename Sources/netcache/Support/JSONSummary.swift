import Foundation
import NetcacheProtocol

/// The one JSON document `--json` prints on stdout at the end of a command: what was done,
/// with the time it took, in the order the fields were added.
struct JSONSummary {
    private var fields: [(key: String, value: JSONValue)] = []
    private let start = ContinuousClock.now

    mutating func add(_ key: String, _ value: JSONValue) {
        fields.append((key, value))
    }

    mutating func add(_ key: String, _ text: String?) {
        add(key, text.map { .string($0) } ?? .null)
    }

    mutating func add(_ key: String, _ number: Int?) {
        add(key, number.map { .integer($0) } ?? .null)
    }

    func print() throws {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let all = fields + [("seconds", .double((seconds * 1000).rounded() / 1000))]
        try printFlushed(JSONValue.object(JSONObject(all)).pythonJSON)
    }
}
