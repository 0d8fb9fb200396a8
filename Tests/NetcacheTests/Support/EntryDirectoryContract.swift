import Foundation
import NIOCore
import NetcacheProtocol
import XCTest

@testable import NetcacheServer

/// What every entry directory does.
enum EntryDirectoryContract {
    static func check(_ directory: any EntryDirectory) async throws {
        let key = "file-urlmd5:0123"
        let none = try await directory.bodies(for: key)
        XCTAssertEqual(none, [])
        let noListing = try await directory.listing(for: key)
        XCTAssertNil(noListing)

        let first = #"["{\"sha512\": \"a\"}", "c2ln"]"#
        let second = #"["{\"sha512\": \"b\", \"name\": \"caf\u00e9\"}", "c2ln"]"#
        // The same entry with the same meaning, but other bytes: a second entry.
        let secondSpelledOtherwise = #"["{\"sha512\": \"b\", \"name\": \"café\"}", "c2ln"]"#
        let firstAdded = try await directory.add(key: key, body: first)
        let secondAdded = try await directory.add(key: key, body: second)
        let againAdded = try await directory.add(key: key, body: first)
        let otherAdded = try await directory.add(key: key, body: secondSpelledOtherwise)
        XCTAssertEqual([firstAdded, secondAdded, againAdded, otherAdded], [true, true, false, true])
        let stored = try await directory.bodies(for: key)
        XCTAssertEqual(stored, [first, second, secondSpelledOtherwise])
        let listing = try await directory.listing(for: key)
        XCTAssertEqual(listing.map { String(buffer: $0) }, ShadirListing.render(bodies: [first, second, secondSpelledOtherwise]))

        // Longer than an index entry may be.
        let long = #"["{\"sha512\": \"c\", \"pad\": \""# + String(repeating: "x", count: 100_000) + #"\"}", "c2ln"]"#
        let longAdded = try await directory.add(key: "long", body: long)
        let longAgain = try await directory.add(key: "long", body: long)
        XCTAssertEqual([longAdded, longAgain], [true, false])

        // Twenty writers at once, four of each of five entries: each stored once.
        let racing = (0..<5).map { #"["{\"sha512\": \"r\#($0)\"}", "c2ln"]"# }
        let added = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 { group.addTask { try await directory.add(key: "race", body: racing[index % 5]) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(added, 5)
        let raced = try await directory.bodies(for: "race")
        XCTAssertEqual(raced.sorted(), racing.sorted())

        try await directory.add(key: "later", body: first)
        let keys = try await directory.keys()
        XCTAssertEqual(keys, [key, "long", "race", "later"])

        // Removing one entry keeps the others, in their order; an absent one removes nothing.
        let removed = try await directory.remove(key: key, bodies: [second, "[\"not there\", \"\"]"])
        XCTAssertEqual(removed, 1)
        let remaining = try await directory.bodies(for: key)
        XCTAssertEqual(remaining, [first, secondSpelledOtherwise])
        let relisted = try await directory.listing(for: key)
        XCTAssertEqual(relisted.map { String(buffer: $0) }, ShadirListing.render(bodies: [first, secondSpelledOtherwise]))
        let readded = try await directory.add(key: key, body: second)
        XCTAssertTrue(readded, "a removed entry can be filed again, last")
        let again = try await directory.bodies(for: key)
        XCTAssertEqual(again, [first, secondSpelledOtherwise, second])
    }
}
