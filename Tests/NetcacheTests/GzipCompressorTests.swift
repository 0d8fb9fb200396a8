import Foundation
import XCTest

@testable import BinaryCache

/// The legacy gzip is deflated in parallel blocks: what comes out must still be one
/// ordinary gzip member that every reader takes, and the same bytes every time.
final class GzipCompressorTests: XCTestCase {
    /// Text that repeats across the 512 KiB block boundaries (so that matches reach into
    /// the previous block's dictionary), then incompressible bytes filling at least one
    /// whole block (deflate's worst case), then text again.
    private static let input: Data = {
        var data = Data()
        var line = 0
        while data.count < 1_300_000 {
            data.append(Data("line \(line % 977): the quick brown fox jumps over the lazy dog\n".utf8))
            line += 1
        }
        data.append(Interop.bytes(1_200_000, seed: 7))
        data.append(data.prefix(600_000))
        return data
    }()

    private func gzip(_ data: Data, pieces: Int, level: Int = 1, workers: Int = 2) throws -> Data {
        var output = Data()
        let compressor = GzipCompressor(level: level, workers: workers) { output.append(contentsOf: $0) }
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + pieces)
                try compressor.compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
            }
        }
        try compressor.finish()
        return output
    }

    private func gunzip(_ data: Data) throws -> CommandResult {
        try NetcacheTests.run(URL(fileURLWithPath: "/bin/gzip"), ["-dc"], input: data)
    }

    func testOutputIsOneGzipMemberThatGzipAndPythonRead() throws {
        let compressed = try gzip(Self.input, pieces: 100_003)
        XCTAssertEqual(Array(compressed.prefix(4)), [0x1f, 0x8b, 8, 0], "gzip magic, deflate, no flags")
        XCTAssertLessThan(compressed.count, Self.input.count * 2 / 3)

        let gunzipped = try gunzip(compressed)
        XCTAssertEqual(gunzipped.status, 0, gunzipped.stderr)
        XCTAssertEqual(gunzipped.stdout, Self.input)

        // One member: a streaming reader (tarfile's "r|gz" reads this way) reaches the
        // end of the stream exactly at the end of the file.
        let script = """
            import sys, zlib
            data = sys.stdin.buffer.read()
            reader = zlib.decompressobj(31)
            plain = reader.decompress(data)
            print(reader.eof, len(reader.unused_data), len(plain))
            """
        let python = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], input: compressed)
        XCTAssertEqual(python.status, 0, python.stderr)
        XCTAssertEqual(python.output, "True 0 \(Self.input.count)\n")
    }

    func testSameInputGivesSameBytesHoweverItIsFedAndOnAnyNumberOfWorkers() throws {
        let whole = try gzip(Self.input, pieces: Self.input.count)
        XCTAssertEqual(try gzip(Self.input, pieces: 4_096), whole)
        XCTAssertEqual(try gzip(Self.input, pieces: 524_288), whole)
        XCTAssertEqual(try gzip(Self.input, pieces: 100_003, workers: 1), whole)
        XCTAssertEqual(try gzip(Self.input, pieces: 100_003, workers: 4), whole)
    }

    /// Level 6 is what `upload --url DIR` uses: other bytes, smaller, the same content.
    func testOtherLevelsAreAppliedAndReadable() throws {
        let fast = try gzip(Self.input, pieces: 65_536)
        let default6 = try gzip(Self.input, pieces: 65_536, level: 6)
        XCTAssertLessThan(default6.count, fast.count)
        let gunzipped = try gunzip(default6)
        XCTAssertEqual(gunzipped.status, 0, gunzipped.stderr)
        XCTAssertEqual(gunzipped.stdout, Self.input)
    }

    /// A sink that fails (a full disk) stops the stream with its error; `cancel` then
    /// waits for the workers and returns.
    func testASinkFailureStopsTheStream() throws {
        struct DiskFull: Error {}
        var written = 0
        let compressor = GzipCompressor { bytes in
            written += bytes.count
            if written > 100_000 { throw DiskFull() }
        }
        XCTAssertThrowsError(try Self.input.withUnsafeBytes { bytes in
            try compressor.compress(bytes)
            try compressor.finish()
        }) { XCTAssertTrue($0 is DiskFull, "\($0)") }
        compressor.cancel()
        XCTAssertLessThan(written, Self.input.count / 2, "kept writing after the failure")
    }

    func testEmptyAndBlockSizedInputs() throws {
        for size in [0, 1, 512 << 10, 1 << 20] {
            let data = Self.input.prefix(size)
            let gunzipped = try gunzip(try gzip(data, pieces: 65_536))
            XCTAssertEqual(gunzipped.status, 0, "\(size) bytes: \(gunzipped.stderr)")
            XCTAssertEqual(gunzipped.stdout, data, "\(size) bytes")
        }
    }
}
