import Foundation
import XCTest

@testable import BinaryCache

/// The rules relocation rewrites by, on bytes: where an occurrence of software_root
/// counts, what replaces it, and that the scan finds the same occurrences whatever the
/// size of its reads.
final class RelocationRulesTests: XCTestCase {
    private func counts(_ before: String, atStart: Bool = false) -> Bool {
        PathStart.counts(after: Array(before.utf8), atStart: atStart)
    }

    func testAnOccurrenceCountsOnlyWhereAPathStarts() {
        XCTAssertTrue(counts("", atStart: true), "the start of a file")
        XCTAssertTrue(counts("prefix="), "after a byte that cannot be in a path")
        XCTAssertTrue(counts("\"") && counts(" ") && counts(":") && counts("\0") && counts("'"))
        XCTAssertTrue(counts("CFLAGS=-I") && counts(" -L") && counts(",-R") && counts(" -isystem"), "flags glued to a path")
        XCTAssertTrue(counts("url=file://"), "a file URL")
        XCTAssertTrue(counts("'."), "./<root>, a relative spelling of the root")
        XCTAssertFalse(counts("'.."), "../<root> is another path")
        XCTAssertFalse(counts("/srv"), "the tail of a longer path")
        XCTAssertFalse(counts("x"), "the tail of a relative path")
        XCTAssertFalse(counts("a//"), "two slashes that are not a URL's")
        XCTAssertFalse(counts("-Lx"), "not a flag")
        XCTAssertFalse(counts("/-L"), "a flag's letters in a path")
        XCTAssertFalse(counts("ab-isystem"), "a path byte before the flag")
        XCTAssertFalse(counts(String(repeating: "a", count: 11)), "a run longer than any flag, cut by the window")
    }

    /// In a `.pyc`, the byte before a string is its marshalled length: 0x4C ('L') for 76
    /// bytes, a letter that would otherwise say the root continues a longer path.
    func testInBytecodeAMarshalledStringStartsAPath() throws {
        let rewrite = try RootRewrite(from: "/opt/slapgrid", to: "/srv/sr")
        let root = Array("/opt/slapgrid/x".utf8)
        for (header, counts) in [([0x7A, 0x4C], true), ([0xDA, 0x2F], true), ([0x61, 0x4C, 0, 0, 0x41], true),
                                 ([0xF5, 0x00, 0x01, 0, 0x30], true), ([0x78, 0x4C, 0, 0, 0x41], false), ([0x79, 0x4C], false)] as [([UInt8], Bool)] {
            let bytes = ArraySlice([0x00] + header + root)
            XCTAssertEqual(rewrite.isOccurrence(in: bytes, at: 1 + header.count, startsFile: true, bytecode: true), counts, "\(header)")
            XCTAssertFalse(header.last == 0x4C && rewrite.isOccurrence(in: bytes, at: 1 + header.count, startsFile: true), "outside bytecode, a letter before is a longer path")
        }
    }

    func testTheNewRootIsPaddedAfterItToTheOldLength() throws {
        let rewrite = try RootRewrite(from: "/opt/slapgrid", to: "/srv/sr")
        XCTAssertEqual(String(decoding: rewrite.old, as: UTF8.self), "/opt/slapgrid/")
        XCTAssertEqual(String(decoding: rewrite.replacement, as: UTF8.self), "/srv/sr///////")
        XCTAssertEqual(try RootRewrite(from: "/opt/slapgrid", to: "/opt/slapgrid").replacement, Array("/opt/slapgrid/".utf8))
        XCTAssertThrowsError(try RootRewrite(from: "/srv/sr", to: "/opt/slapgrid"))
        XCTAssertThrowsError(try RootRewrite(from: "/", to: "/"))
        XCTAssertThrowsError(try RootRewrite(from: "/opt/slapgrid/", to: "/srv"), "roots are compared normalised")
        XCTAssertThrowsError(try RootRewrite(from: "opt/slapgrid", to: "/srv"))
    }

    func testRootsAreComparedInOneSpelling() {
        XCTAssertEqual(normalisedRoot("/a/root/"), "/a/root")
        XCTAssertEqual(normalisedRoot("/a//root"), "/a/root")
        XCTAssertEqual(normalisedRoot("/a/./root/."), "/a/root")
        XCTAssertEqual(normalisedRoot("//a/root//"), "/a/root")
        XCTAssertEqual(normalisedRoot("/a/../root"), "/a/../root", "'..' depends on symlinks: kept")
        XCTAssertEqual(normalisedRoot("/"), "/")
    }

    func testManifestPathsAreRelativeAndNormal() {
        XCTAssertEqual(try TreePath(validating: "lib/python3.11/os.pyc").components, ["lib", "python3.11", "os.pyc"])
        XCTAssertEqual(try TreePath(validating: "..data").components, ["..data"])
        for bad in ["", "/etc/passwd", "a//b", "a/", "./a", "a/.", "../a", "a/../b", "a\0b"] {
            XCTAssertThrowsError(try TreePath(validating: bad), bad.debugDescription)
        }
    }

    /// Random bytes with occurrences planted after every kind of byte, scanned with reads
    /// of 1 to 40 bytes: the same offsets as a plain search of the whole file.
    func testTheScanFindsTheSameOccurrencesWhateverItsReadSize() throws {
        let pattern = Array("/opt/sr/".utf8)
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = ["/opt/sr/", "/opt/sr/", "-L", "file://", "/srv", "x", "=", "\0", "/", "/opt/sr", "a", "-I"].map { Array($0.utf8) }
        for round in 0..<40 {
            var bytes: [UInt8] = []
            while bytes.count < 600 {
                bytes += pieces[Int(generator.next() % UInt64(pieces.count))]
            }
            let expected = Self.plainSearch(pattern, in: bytes)
            XCTAssertFalse(expected.isEmpty)
            let file = try TemporaryDirectory.make().appendingPathComponent("bytes").path
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let descriptor = open(file, O_RDONLY)
            defer { close(descriptor) }
            for window in [1, 2, 3, 7, 8, 9, 13, 40] {
                var scanner = OccurrenceScanner(pattern: pattern, window: window)
                let (offsets, ambiguous, hasNUL) = try scanner.scan(descriptor, path: file)
                XCTAssertEqual(offsets, expected, "round \(round), reads of \(window) bytes")
                XCTAssertEqual(ambiguous, Self.firstAmbiguous(pattern, in: bytes), "round \(round), reads of \(window) bytes")
                XCTAssertEqual(hasNUL, bytes.contains(0))
            }
        }
    }

    /// The first occurrence that neither starts a path nor follows a `/` in the path bytes
    /// before it.
    private static func firstAmbiguous(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        let counted = Set(plainSearch(pattern, in: bytes))
        return (0...(bytes.count - pattern.count)).first { offset in
            guard bytes[offset..<(offset + pattern.count)].elementsEqual(pattern), !counted.contains(offset),
                !counted.contains(where: { $0 < offset && offset < $0 + pattern.count })
            else { return false }
            let run = bytes[max(0, offset - PathStart.lookBehind - 1)..<offset].reversed().prefix { PathStart.isPathByte($0) }
            return !run.contains(UInt8(ascii: "/"))
        }
    }

    private static func plainSearch(_ pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        var found: [Int] = []
        var offset = 0
        while offset + pattern.count <= bytes.count {
            let context = max(0, offset - PathStart.lookBehind - 1)
            if bytes[offset..<(offset + pattern.count)].elementsEqual(pattern), PathStart.counts(after: bytes[context..<offset], atStart: context == 0) {
                found.append(offset)
                offset += pattern.count
            } else {
                offset += 1
            }
        }
        return found
    }
}
