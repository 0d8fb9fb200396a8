import Foundation
import NetcacheProtocol
import Synchronization
import XCTest

@testable import NetcacheClient

/// kill -9 of the server in the middle of uploads and shadir PUTs, then a restart on the
/// same data: whatever was answered 201 is there and verifies, no partial blob is ever
/// served, the database is sound, and staging is empty.
final class ServerCrashTests: XCTestCase {
    private func randomBytes(_ count: Int) throws -> [UInt8] {
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? handle.close() }
        return Array(try XCTUnwrap(try handle.read(upToCount: count)))
    }

    func testKill9DuringFiftyUploadsAndABurstOfPutsLosesNothingAnswered() throws {
        let parent = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: parent) }
        let server = try ServerProcess(dataDirectory: parent)
        let blobs = try (0..<50).map { _ in try randomBytes(2 << 20) }
        let stored = Mutex<[String]>([])
        let filed = Mutex<[(key: String, body: [UInt8])]>([])
        let workers = DispatchGroup()
        let shacacheURL = server.shacacheURL, shadirURL = server.shadirURL
        // One more upload, all of it sent but its last byte: under way when the kill comes,
        // whatever the others have done by then.
        let held = try randomBytes(2 << 20)
        let unfinished = try SimultaneousRequests([.init(method: "POST", url: shacacheURL, body: held)])
        for blob in blobs {
            workers.enter()
            Thread.detachNewThread {
                defer { workers.leave() }
                if let answer = try? TestHTTP.request("POST", shacacheURL, body: blob), answer.status == 201 {
                    stored.withLock { $0.append(answer.text) }
                }
            }
        }
        for worker in 0..<10 {
            workers.enter()
            Thread.detachNewThread {
                defer { workers.leave() }
                // Until the kill: PUTs are under way when it comes.
                for number in 0..<100_000 {
                    let key = "crash:\(worker)"
                    let info = "{\"sha512\": \"\(String(repeating: "ab", count: 64))\", \"n\": \(number)}"
                    let body = Array(JSONValue.array([.string(info), .string("")]).pythonJSON.utf8)
                    guard let answer = try? TestHTTP.request("PUT", shadirURL + "/" + key, body: body) else { return }
                    if answer.status == 201 { filed.withLock { $0.append((key, body)) } }
                }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while (stored.withLock({ $0.count }) < 5 || filed.withLock({ $0.count }) < 5) && Date() < deadline { usleep(1_000) }
        server.kill()
        workers.wait()
        let answeredUploads = stored.withLock { $0 }
        let answeredPuts = filed.withLock { $0 }
        XCTAssertGreaterThanOrEqual(answeredUploads.count, 5)
        XCTAssertGreaterThanOrEqual(answeredPuts.count, 5)
        withExtendedLifetime(unfinished) {}

        let restarted = try ServerProcess(dataDirectory: parent)
        defer { restarted.stop() }
        XCTAssertEqual(restarted.stagedFiles(), [], "staging files survived the restart")
        XCTAssertEqual(try TestHTTP.request("HEAD", restarted.shacacheURL + "/" + StreamingDigest.sha512Hex(of: held)).status, 404, "the unfinished upload was kept")
        for sha512 in answeredUploads {
            let blob = try TestHTTP.request("GET", restarted.shacacheURL + "/" + sha512)
            XCTAssertEqual(blob.status, 200, sha512)
            XCTAssertEqual(StreamingDigest.sha512Hex(of: blob.body), sha512)
        }
        for key in Set(answeredPuts.map(\.key)) {
            let listing = try TestHTTP.request("GET", restarted.shadirURL + "/" + key).text
            for (_, body) in answeredPuts.filter({ $0.key == key }) {
                XCTAssertTrue(listing.contains(String(decoding: body, as: UTF8.self)), "\(key) lost an entry answered 201")
            }
        }
        // Every blob stored, answered or not, is whole: its name is its content's SHA-512.
        for file in restarted.storedBlobs() {
            let bytes = try Data(contentsOf: restarted.dataDirectory.appendingPathComponent("shacache/" + file))
            XCTAssertEqual(StreamingDigest.sha512Hex(of: Array(bytes)), (file as NSString).lastPathComponent, "partial blob \(file)")
        }
        XCTAssertEqual(try integrityCheck(of: restarted.dataDirectory.appendingPathComponent("shadir.sqlite").path), "ok")
    }

    func testKill9DuringAOneGibibyteUploadLeavesNoBlobAndNoStagingFile() throws {
        let parent = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: parent) }
        let server = try ServerProcess(dataDirectory: parent)
        let large = parent.appendingPathComponent("large").path
        XCTAssertTrue(FileManager.default.createFile(atPath: large, contents: nil))
        XCTAssertEqual(truncate(large, 1 << 30), 0)
        let client = ShacacheClient(downloadURL: server.shacacheURL, uploadURL: server.shacacheURL, tls: TLSSettings())
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? client.upload(file: large)
            done.signal()
        }
        let staging = server.dataDirectory.appendingPathComponent("staging").path
        let deadline = Date().addingTimeInterval(60)
        func staged() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
            return names.compactMap { try? FileManager.default.attributesOfItem(atPath: staging + "/" + $0)[.size] as? Int }.max() ?? 0
        }
        while staged() < 100 << 20 && Date() < deadline { usleep(5_000) }
        XCTAssertGreaterThan(staged(), 0, "the upload never reached staging")
        server.kill()
        done.wait()

        let restarted = try ServerProcess(dataDirectory: parent)
        defer { restarted.stop() }
        XCTAssertEqual(restarted.stagedFiles(), [])
        XCTAssertEqual(restarted.storedBlobs(), [])
        let zeros = StreamingDigest.sha512()
        let block = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<1024 { zeros.update(block) }
        XCTAssertEqual(try TestHTTP.request("HEAD", restarted.shacacheURL + "/" + zeros.finalize()).status, 404)
    }

    /// SQLite's own check, through Python's sqlite3 module (the test machine's python3).
    private func integrityCheck(of path: String) throws -> String {
        let result = try NetcacheTests.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
