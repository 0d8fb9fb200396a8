import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

/// The data directory on a small tmpfs: an upload that does not fit gets 507 with one line
/// saying why and leaves nothing, downloads and shadir keep working, and uploads are taken
/// again once there is room.
final class ServerFullDiskTests: XCTestCase {
    private var directory: URL!
    private var mounted = false

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw TestFailure("this test mounts a tmpfs; run the suite as root, as CI does") }
        directory = try TemporaryDirectory.make()
        let result = try NetcacheTests.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=64m", "tmpfs", directory.path])
        guard result.status == 0 else { throw TestFailure("mount: \(result.stderr)") }
        mounted = true
    }

    override func tearDown() {
        if mounted { umount2(directory.path, Int32(MNT_DETACH)) }
    }

    private func random(_ count: Int) throws -> [UInt8] {
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? handle.close() }
        return Array(try XCTUnwrap(try handle.read(upToCount: count)))
    }

    private func assertRefusedAndKept(_ answer: TestResponse, server: ServerProcess, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(answer.status, 507, answer.text, file: file, line: line)
        XCTAssertTrue(answer.text.contains("not enough space for the upload"), answer.text, file: file, line: line)
        XCTAssertEqual(server.stagedFiles(), [], file: file, line: line)
    }

    func testUploadsThatDoNotFitGet507AndTheServerGoesOn() throws {
        let server = try ServerProcess(arguments: ["--min-free-space", "8M"], dataDirectory: directory)
        let small = try random(1 << 20)
        let smallSHA = StreamingDigest.sha512Hex(of: small)
        XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: small).status, 201)
        let filler = directory.appendingPathComponent("filler").path
        try Data(try random(40 << 20)).write(to: URL(fileURLWithPath: filler))

        // Declared too large: refused before its body is read.
        let declared = try TestHTTP.request("POST", server.shacacheURL, body: try random(20 << 20))
        assertRefusedAndKept(declared, server: server)
        // Streamed (chunked, no length): refused once it crosses the limit.
        let answer = try chunkedUpload(megabytes: 30, to: server)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 507"), String(answer.prefix(200)))
        XCTAssertEqual(server.stagedFiles(), [])

        // The rest goes on.
        let download = try TestHTTP.request("GET", server.shacacheURL + "/" + smallSHA)
        XCTAssertEqual(download.body, small)
        let entry = Array(JSONValue.array([.string("{\"sha512\": \"\(smallSHA)\"}"), .string("")]).pythonJSON.utf8)
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/full:disk", body: entry).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/full:disk").status, 200)

        try FileManager.default.removeItem(atPath: filler)
        let fits = try random(20 << 20)
        let accepted = try TestHTTP.request("POST", server.shacacheURL, body: fits)
        XCTAssertEqual(accepted.status, 201, accepted.text)
        XCTAssertEqual(accepted.text, StreamingDigest.sha512Hex(of: fits))
    }

    /// Another process fills the file system while an upload streams: the write that fails
    /// is a 507 too, not a 500, and nothing of the upload is kept.
    func testAWriteThatMeetsAFullFileSystemIs507() throws {
        let server = try ServerProcess(arguments: ["--min-free-space", "0"], dataDirectory: directory)
        let filler = directory.appendingPathComponent("filler").path
        let answer = try chunkedUpload(megabytes: 30, to: server, pausingAfter: 2) {
            let result = try? NetcacheTests.run(URL(fileURLWithPath: "/bin/dd"), ["if=/dev/zero", "of=\(filler)", "bs=1M", "status=none"])
            XCTAssertNotEqual(result?.status, 0, "the file system did not fill")
        }
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 507"), String(answer.prefix(200)))
        XCTAssertTrue(answer.contains("No space left on device"), String(answer.suffix(300)))
        XCTAssertEqual(server.stagedFiles(), [])
        XCTAssertEqual(server.storedBlobs(), [])
    }

    /// A chunked upload with no length, sent on a thread of its own: the server answers
    /// before it has read it all, and the answer is read meanwhile.
    private func chunkedUpload(megabytes: Int, to server: ServerProcess, pausingAfter pause: Int? = nil, whilePaused: @escaping @Sendable () -> Void = {}) throws -> String {
        let socket = try RawSocket.connectLoopback(port: try RawSocket.port(of: server.url))
        defer { close(socket) }
        let chunk = Array((String(1 << 20, radix: 16) + "\r\n").utf8) + [UInt8](repeating: 0x7A, count: 1 << 20) + Array("\r\n".utf8)
        let head = Array("POST /shacache HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)
        let sent = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { sent.signal() }
            func send(_ bytes: [UInt8]) -> Bool { RawSocket.sendAll(bytes, on: socket) }
            guard send(head) else { return }
            for number in 0..<megabytes {
                if number == pause {
                    // Let the server write what came so far before the disk fills.
                    Thread.sleep(forTimeInterval: 0.3)
                    whilePaused()
                }
                guard send(chunk) else { return }
            }
            _ = send(Array("0\r\n\r\n".utf8))
        }
        let answer = RawSocket.readToEnd(socket)
        shutdown(socket, Int32(SHUT_RDWR))
        sent.wait()
        return String(decoding: answer, as: UTF8.self)
    }
}
