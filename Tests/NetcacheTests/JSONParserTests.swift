import Foundation
import NetcacheProtocol
import XCTest

/// Python's `json` limits integers to 4300 digits (`int_max_str_digits`); netcache refuses
/// the same, which also bounds BigInt's quadratic parse of what a cache or an entry holds.
final class JSONParserTests: XCTestCase {
    func testIntegersAreLimitedToPythonsDigitsAndNoMore() throws {
        let longest = String(repeating: "9", count: 4300)
        guard case .bigInteger = try JSONValue(parsing: "[\(longest)]").arrayValue?.first else { return XCTFail("4300 digits are a number") }
        guard case .bigInteger = try JSONValue(parsing: "-\(longest)") else { return XCTFail("a sign is no digit") }
        XCTAssertThrowsError(try JSONValue(parsing: "[\(longest)9]"))
        XCTAssertThrowsError(try JSONValue(parsing: "{\"size\": \(String(repeating: "1", count: 400_000))}"))
        let python = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", "import json, sys; json.loads('9' * int(sys.argv[1]))", "4301"])
        XCTAssertNotEqual(python.status, 0, "Python accepts what netcache refuses")
        XCTAssertTrue(python.stderr.contains("4300"), python.stderr)
    }
}
