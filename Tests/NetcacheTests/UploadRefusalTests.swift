import Foundation
import HummingbirdBcrypt
import NetcacheClient
import NetcacheProtocol
import XCTest

/// Clients that send their whole body before reading (Python's `http.client`, and through
/// it the unmodified `NetworkcacheClient.upload`) read a refusal within seconds: the server
/// answers at once and throws the rest of the body away instead of leaving the client
/// blocked in `send` until its timeout.
final class UploadRefusalTests: XCTestCase {
    private var directory: URL!
    /// Beside the data directory, which may be a small tmpfs.
    private var scratch: URL!
    private var mounted = false
    /// Far larger than the socket buffers: a server that stops reading blocks the sender.
    private let size = 80 << 20

    override func setUpWithError() throws {
        try Interop.requireVenv()
        directory = try TemporaryDirectory.make()
        scratch = try TemporaryDirectory.make()
    }

    override func tearDown() {
        if mounted { umount2(directory.path, Int32(MNT_DETACH)) }
    }

    func testAnUploadPastTheSizeLimitReads413() throws {
        let server = try ServerProcess(arguments: ["--max-upload-size", "1M"], dataDirectory: directory)
        try assertRefused(server, status: 413, message: "upload larger than the limit")
        try assertRefused(server, status: 413, message: "upload larger than the limit", headers: ["Connection=close"])
        // Streamed without a length, it is refused on the way, and the client still reads it.
        try assertRefused(server, status: 413, message: "upload larger than the limit", size: "chunked:\(size)", headers: ["Connection=close"])
        try assertNothingStored(server)
        try assertPythonUploadRefused(server, status: 413, config: config(server))
    }

    func testAnUploadToANearlyFullDataDirectoryReads507() throws {
        guard getuid() == 0 else { throw TestFailure("this test mounts a tmpfs; run the suite as root, as CI does") }
        let mount = try NetcacheTests.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=64m", "tmpfs", directory.path])
        guard mount.status == 0 else { throw TestFailure("mount: \(mount.stderr)") }
        mounted = true
        let server = try ServerProcess(arguments: ["--min-free-space", "32M"], dataDirectory: directory)
        try assertRefused(server, status: 507, message: "not enough space for the upload", headers: ["Connection=close"])
        try assertRefused(server, status: 507, message: "not enough space for the upload", size: "chunked:\(size)", headers: ["Connection=close"])
        try assertNothingStored(server)
        try assertPythonUploadRefused(server, status: 507, config: config(server))
    }

    func testARefusedUploaderReads401Or403() throws {
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("right", cost: 4))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path], dataDirectory: directory)
        try assertRefused(server, status: 401, message: "credentials required", headers: ["Connection=close"])
        let wrong = "Authorization=Basic " + Data("node:wrong".utf8).base64EncodedString()
        try assertRefused(server, status: 403, message: "wrong credentials", headers: ["Connection=close", wrong])
        try assertRefused(server, status: 403, message: "wrong credentials", size: "chunked:\(size)", headers: [wrong])
        try assertNothingStored(server)
    }

    /// How SlapOS refuses an uploader: a client certificate its CA has revoked.
    func testTheUnmodifiedPythonUploaderWithARevokedCertificateReads403() throws {
        let pki = TestPKI(directory: directory)
        try pki.authority("ca")
        try pki.certificate("server", signedBy: "ca", extensions: "subjectAltName=IP:127.0.0.1\n")
        try pki.certificate("former-uploader", signedBy: "ca")
        try pki.revoke("former-uploader", by: "ca")
        let server = try ServerProcess(
            arguments: ["--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"), "--client-ca", pki.path("ca.pem"), "--client-crl", try pki.crl(of: "ca")],
            dataDirectory: directory)
        let tls = ["ca", "cert", "key"].map { "shacache-\($0)-file = " + pki.path(["ca": "ca.pem", "cert": "former-uploader.pem", "key": "former-uploader.key"][$0] ?? "") }
        try assertPythonUploadRefused(server, status: 403, config: config(server, extra: tls))
        try assertNothingStored(server, tls: TLSSettings(caFile: pki.path("ca.pem")))
    }

    /// A client that asks for `100-continue` gets the refusal before it sends a byte.
    func testAClientThatAsksToContinueIsRefusedBeforeItSends() throws {
        let server = try ServerProcess(arguments: ["--max-upload-size", "1M"], dataDirectory: directory)
        let socket = try RawSocket.connectLoopback(port: try RawSocket.port(of: server.url))
        defer { close(socket) }
        var wait = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let head = "POST /shacache HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\nExpect: 100-continue\r\n\r\n"
        XCTAssertTrue(RawSocket.sendAll(Array(head.utf8), on: socket))
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(socket, &buffer, buffer.count, 0)
        XCTAssertTrue(String(decoding: buffer[..<max(count, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 413 "), "read \(count) bytes")
    }

    /// The rest of a refused body is waited for only so long: a client that stops sending
    /// has its answer at once and its connection closed after the linger time (30 s).
    func testARefusedBodyThatNeverEndsIsCutAfterLingering() throws {
        let server = try ServerProcess(arguments: ["--max-upload-size", "1M"], dataDirectory: directory)
        let socket = try RawSocket.connectLoopback(port: try RawSocket.port(of: server.url))
        defer { close(socket) }
        let start = Date()
        let head = "POST /shacache HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n"
        XCTAssertTrue(RawSocket.sendAll(Array(head.utf8) + [UInt8](repeating: 0, count: 2 << 20), on: socket))
        let answer = String(decoding: RawSocket.readToEnd(socket), as: UTF8.self)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413 "), answer)
        XCTAssertGreaterThan(seconds, 25, "closed before the linger time")
        XCTAssertLessThan(seconds, 45, "not closed after the linger time")
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health").status, 200)
    }

    /// `raw_upload.py` sends the body with `http.client`, as the Python tools do.
    private func assertRefused(
        _ server: ServerProcess, status: Int, message: String, size: String? = nil, headers: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let script = Binaries.packageRoot.appendingPathComponent("Tests/interop/raw_upload.py").path
        let (result, seconds) = try timed(Interop.python, [script, server.shacacheURL, size ?? String(self.size)] + headers)
        XCTAssertEqual(result.status, 0, result.output + result.stderr, file: file, line: line)
        XCTAssertTrue(result.output.hasPrefix("\(status) "), result.output, file: file, line: line)
        XCTAssertTrue(result.output.contains(message), result.output, file: file, line: line)
        XCTAssertLessThan(seconds, 15, "the status took \(seconds) s", file: file, line: line)
    }

    /// `NetworkcacheClient(cfg).upload(file)`, unmodified, under a 60 s guard (its own
    /// timeout is an hour): it fails with the server's status well within 15 s.
    private func assertPythonUploadRefused(_ server: ServerProcess, status: Int, config: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let payload = scratch.appendingPathComponent("release.tar.gz")
        XCTAssertTrue(FileManager.default.createFile(atPath: payload.path, contents: Data(count: size)), file: file, line: line)
        defer { try? FileManager.default.removeItem(at: payload) }
        let script = Binaries.packageRoot.appendingPathComponent("Tests/interop/upload.py").path
        let (result, seconds) = try timed(URL(fileURLWithPath: "/usr/bin/timeout"), ["60", Interop.python.path, script, config, payload.path])
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains("HTTP Error \(status)"), result.stderr, file: file, line: line)
        XCTAssertLessThan(seconds, 15, "the status took \(seconds) s", file: file, line: line)
    }

    private func assertNothingStored(_ server: ServerProcess, tls: TLSSettings = TLSSettings(), file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(server.storedBlobs(), [], file: file, line: line)
        XCTAssertEqual(server.stagedFiles(), [], file: file, line: line)
        XCTAssertEqual(try TestHTTP.request("GET", server.url + "/health", tls: tls).status, 200, file: file, line: line)
    }

    private func config(_ server: ServerProcess, extra: [String] = []) throws -> String {
        let path = scratch.appendingPathComponent("slapos-\(UUID().uuidString).cfg")
        let lines = ["[networkcache]", "download-cache-url = \(server.shacacheURL)", "upload-cache-url = \(server.shacacheURL)"] + extra
        try lines.joined(separator: "\n").appending("\n").write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    private func timed(_ executable: URL, _ arguments: [String]) throws -> (CommandResult, Double) {
        let start = Date()
        let result = try NetcacheTests.run(executable, arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        return (result, Date().timeIntervalSince(start))
    }
}
