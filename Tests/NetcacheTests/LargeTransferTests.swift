import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

/// Streaming both ways: a blob of 1 GiB up and down, and many downloads that stop reading.
/// What the server's memory does meanwhile is measured by `scripts/load-benchmark.sh`
/// (figures in the README), not judged here.
final class LargeTransferTests: XCTestCase {
    func testOneGibibyteStreamsThroughTheServerWhole() throws {
        let server = try ServerProcess()
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large").path
        let expected = try writeLargeFile(path, size: 1 << 30)

        let client = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: server.shacacheURL, tls: TLSSettings())
        XCTAssertEqual(try client.upload(file: path), expected)
        try FileManager.default.removeItem(atPath: path)

        try assertDownloadsWhole(expected, size: 1 << 30, from: client)
    }

    /// 200 clients download a 64 MiB blob at once and stop reading: the server goes on
    /// serving others meanwhile, the same blob whole included.
    func testTwoHundredStalledDownloadersDoNotHoldTheServer() throws {
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
        try assertDownloadsWhole(sha512, size: 64 << 20, from: client)
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200)
    }

    /// Downloads the blob as it streams, counting and hashing what comes.
    private func assertDownloadsWhole(_ sha512: String, size: Int, from client: ShacacheClient, line: UInt = #line) throws {
        let digest = StreamingDigest.sha512()
        var received = 0
        try client.download(sha512) {
            digest.update($0)
            received += $0.count
        }
        XCTAssertEqual(received, size, line: line)
        XCTAssertEqual(digest.finalize(), sha512, line: line)
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
