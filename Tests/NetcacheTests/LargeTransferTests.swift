import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

/// Streaming both ways: a large upload and download must not grow the server's memory.
final class LargeTransferTests: XCTestCase {
    func testOneGibibyteStreamsThroughTheServerInBoundedMemory() throws {
        let server = try ServerProcess()
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large").path
        let expected = try writeLargeFile(path, size: 1 << 30)

        let client = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: server.shacacheURL, tls: TLSSettings())
        XCTAssertEqual(try client.upload(file: path), expected)
        try FileManager.default.removeItem(atPath: path)

        var received = 0
        try client.download(expected) { received += $0.count }
        XCTAssertEqual(received, 1 << 30)

        let peak = try server.peakResidentBytes()
        print("server peak RSS after 1 GiB up and down: \(peak >> 20) MiB")
        XCTAssertLessThan(peak, 150 << 20, "server peak RSS \(peak >> 20) MiB")
    }

    /// Writes `size` bytes that differ block to block; returns their SHA-512.
    private func writeLargeFile(_ path: String, size: Int) throws -> String {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        let digest = StreamingDigest.sha512()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in block.indices { block[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }
        for number in 0..<(size / block.count) {
            withUnsafeBytes(of: UInt64(number).littleEndian) { counter in
                for (offset, byte) in counter.enumerated() { block[offset] = byte }
            }
            digest.update(block)
            try handle.write(contentsOf: block)
        }
        return digest.finalize()
    }
}
