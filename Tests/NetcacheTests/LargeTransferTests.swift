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

    /// 200 clients download a 64 MiB blob at once and stop reading: the server hands each
    /// connection only what it takes, so its heap stays small (it held 480 MB before).
    func testTwoHundredStalledDownloadersKeepTheServerSmall() throws {
        let server = try ServerProcess()
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("blob").path
        let sha512 = try writeLargeFile(path, size: 64 << 20)
        let client = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: server.shacacheURL, tls: TLSSettings())
        XCTAssertEqual(try client.upload(file: path), sha512)

        let port = try RawSocket.port(of: server.url)
        let request = Array("GET /shacache/\(sha512) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        for _ in 0..<200 {
            let socket = try RawSocket.connectLoopback(port: port)
            sockets.append(socket)
            XCTAssertEqual(request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, request.count)
        }
        for socket in sockets {
            XCTAssertGreaterThan(recv(socket, &buffer, buffer.count, 0), 0, "a download did not start")
        }
        // Long enough for every download to fill its socket's buffers and wait.
        Thread.sleep(forTimeInterval: 3)
        let heap = try server.anonymousResidentBytes()
        print("server RssAnon with 200 stalled downloads: \(heap >> 20) MiB")
        XCTAssertLessThan(heap, 200 << 20, "server RssAnon \(heap >> 20) MiB with 200 stalled downloads")
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
