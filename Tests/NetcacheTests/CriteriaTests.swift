import NetcacheClient
import NetcacheProtocol
import XCTest

final class CriteriaTests: XCTestCase {
    private func entry(_ json: String) -> JSONObject {
        try! JSONValue(parsing: json).objectValue!
    }

    func testParsingSplitsAtTheFirstOperator() throws {
        XCTAssertEqual(try Criterion(parsing: "version>=[4,2]"), Criterion(key: "version", op: .greaterOrEqual, value: .array([.integer(4), .integer(2)])))
        XCTAssertEqual(try Criterion(parsing: "version<<Infinity"), Criterion(key: "version", op: .lowest, value: .double(.infinity)))
        XCTAssertEqual(try Criterion(parsing: "a>>-Infinity"), Criterion(key: "a", op: .highest, value: .double(-.infinity)))
        XCTAssertEqual(try Criterion(parsing: "name==\"a==b\""), Criterion(key: "name", op: .equal, value: .string("a==b")))
        XCTAssertEqual(try Criterion(parsing: "x<\"<\""), Criterion(key: "x", op: .less, value: .string("<")))
        XCTAssertEqual(try Criterion(parsing: "n>1.5"), Criterion(key: "n", op: .greater, value: .double(1.5)))
        XCTAssertEqual(try Criterion(parsing: "n<=null"), Criterion(key: "n", op: .lessOrEqual, value: .null))
        XCTAssertThrowsError(try Criterion(parsing: "name=x"))
        XCTAssertThrowsError(try Criterion(parsing: "name==x"))
        XCTAssertThrowsError(try Criterion(parsing: "noop"))
    }

    func testComparisonsFollowPython() throws {
        let entries = [
            entry(#"{"sha512": "a", "version": [4, 1]}"#),
            entry(#"{"sha512": "b", "version": [4, 2]}"#),
            entry(#"{"sha512": "c", "version": [4, 2, 1]}"#),
            entry(#"{"sha512": "d", "version": "4.3"}"#),
            entry(#"{"sha512": "e"}"#),
            entry(#"{"sha512": "f", "version": [5]}"#),
        ]
        func shas(_ criteria: String...) throws -> [String] {
            try criteria.map(Criterion.init(parsing:)).filter(entries).map { $0["sha512"]!.stringValue! }
        }
        XCTAssertEqual(try shas("version>=[4,2]"), ["b", "c", "f"])
        XCTAssertEqual(try shas("version>=[4,2]", "version<<Infinity"), [])
        XCTAssertEqual(try shas("version>=[4,2]", "version<<[9]"), ["b"])
        XCTAssertEqual(try shas("version>>[0]"), ["f"])
        XCTAssertEqual(try shas("version==\"4.3\""), ["d"])
        XCTAssertEqual(try shas("version<[4,2]"), ["a"])
        XCTAssertEqual(try shas("missing==1"), [])
    }

    func testLowestAndHighestKeepTies() throws {
        let entries = [
            entry(#"{"sha512": "a", "n": 3}"#),
            entry(#"{"sha512": "b", "n": 1}"#),
            entry(#"{"sha512": "c", "n": 1.0}"#),
            entry(#"{"sha512": "d", "n": 2}"#),
            entry(#"{"sha512": "e", "n": true}"#),
        ]
        func shas(_ criterion: String) throws -> [String] {
            try [Criterion(parsing: criterion)].filter(entries).map { $0["sha512"]!.stringValue! }
        }
        XCTAssertEqual(try shas("n<<Infinity"), ["b", "c", "e"])
        XCTAssertEqual(try shas("n>>0"), ["a"])
        XCTAssertEqual(try shas("n<<1"), [])
    }

    func testPythonEqualityAndOrderingAcrossTypes() {
        XCTAssertTrue(JSONValue.integer(1).pythonEquals(.double(1.0)))
        XCTAssertTrue(JSONValue.bool(true).pythonEquals(.integer(1)))
        XCTAssertFalse(JSONValue.string("1").pythonEquals(.integer(1)))
        XCTAssertNil(JSONValue.string("1").pythonLess(.integer(1)))
        XCTAssertNil(JSONValue.null.pythonLess(.integer(1)))
        XCTAssertNil(JSONValue.object(JSONObject()).pythonLess(.object(JSONObject())))
        XCTAssertEqual(JSONValue.array([.integer(1), .string("a")]).pythonLess(.array([.integer(2), .integer(0)])), true)
        XCTAssertNil(JSONValue.array([.integer(1), .string("a")]).pythonLess(.array([.integer(1), .integer(0)])))
        XCTAssertEqual(JSONValue.integer(Int.max).pythonLess(.double(9.3e18)), true)
        XCTAssertEqual(JSONValue.integer(3).pythonLess(.double(.nan)), false)
        XCTAssertEqual(JSONValue.string("B").pythonLess(.string("a")), true)
    }
}

final class PythonJSONTests: XCTestCase {
    func testDumpsLikePython() throws {
        let value = try JSONValue(parsing: #"{"sha512": "ab", "url": "http://x/caf\u00e9 \ud83d\ude00", "n": [1, 2.5, true, null], "o": {}}"#)
        XCTAssertEqual(value.pythonJSON, #"{"sha512": "ab", "url": "http://x/caf\u00e9 \ud83d\ude00", "n": [1, 2.5, true, null], "o": {}}"#)
        XCTAssertEqual(JSONValue.double(1e16).pythonJSON, "1e+16")
        XCTAssertEqual(JSONValue.double(100).pythonJSON, "100.0")
        XCTAssertEqual(JSONValue.double(.infinity).pythonJSON, "Infinity")
        XCTAssertEqual(JSONValue.string("\u{1}\t\"\\/").pythonJSON, #""\u0001\t\"\\/""#)
    }

    func testIndentedSortedLikePythonList() throws {
        let value = try JSONValue(parsing: #"[{"url": "u", "sha512": "s", "v": [1, {"b": 1, "a": []}]}]"#)
        XCTAssertEqual(value.pythonIndentedSortedJSON, """
            [
              {
                "sha512": "s",
                "url": "u",
                "v": [
                  1,
                  {
                    "a": [],
                    "b": 1
                  }
                ]
              }
            ]
            """)
    }

    func testParsingAcceptsWhatJsonLoadsAccepts() throws {
        XCTAssertEqual(try JSONValue(parsing: " NaN ").pythonJSON, "NaN")
        XCTAssertEqual(try JSONValue(parsing: "-Infinity"), .double(-.infinity))
        XCTAssertEqual(try JSONValue(parsing: "12"), .integer(12))
        XCTAssertEqual(try JSONValue(parsing: "1.0"), .double(1))
        XCTAssertEqual(try JSONValue(parsing: "1E2"), .double(100))
        XCTAssertEqual(try JSONValue(parsing: #"{"a": 1, "a": 2}"#).objectValue?.members.count, 1)
        for bad in ["", "01", "[1,]", "{'a': 1}", "\"\u{1}\"", "tru", "1 2", "[1", "\"\\x\""] {
            XCTAssertThrowsError(try JSONValue(parsing: bad), bad)
        }
    }
}

final class PythonNumberTests: XCTestCase {
    func testFloatsAreWrittenAsPythonReprDoes() {
        let cases: [(Double, String)] = [
            (9.5e15, "9500000000000000.0"), (1e16, "1e+16"), (1.2345678901234568e16, "1.2345678901234568e+16"),
            (0.0001, "0.0001"), (1e-5, "1e-05"), (-2.5e-7, "-2.5e-07"), (100, "100.0"), (0, "0.0"),
            (-0.0, "-0.0"), (123.456, "123.456"), (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        ]
        for (value, text) in cases {
            XCTAssertEqual(JSONValue.double(value).pythonJSON, text)
        }
    }

    func testIntegersBeyond64BitsStayExact() throws {
        let big = try JSONValue(parsing: "12345678901234567890")
        XCTAssertEqual(big.pythonJSON, "12345678901234567890")
        XCTAssertEqual(big.pythonGreater(try JSONValue(parsing: "12345678901234567889")), true)
        XCTAssertEqual(big.pythonEquals(.double(12345678901234567890.0)), false)
        XCTAssertEqual(try JSONValue(parsing: "-99999999999999999999").pythonLess(.integer(Int.min)), true)
    }

    func testKeysCompareByCodePoint() throws {
        let object = try XCTUnwrap(JSONValue(parsing: "{\"\u{E9}\": 1, \"e\u{301}\": 2}").objectValue)
        XCTAssertEqual(object.members.count, 2)
        XCTAssertEqual(object["\u{E9}"], .integer(1))
        XCTAssertEqual(object["e\u{301}"], .integer(2))
    }
}
