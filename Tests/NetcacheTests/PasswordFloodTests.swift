import Foundation
import HummingbirdBcrypt
import NetcacheProtocol
import Synchronization
import XCTest

@testable import NetcacheServer

/// bcrypt is slow on purpose: a flood of wrong passwords must not take the threads that
/// serve downloads, and an unknown user name must cost what a wrong password costs.
final class PasswordFloodTests: XCTestCase {
    /// An unknown name is checked against a hash of the file's highest cost: one bcrypt
    /// like a wrong password, and of the cost of the dearest user's.
    func testAnUnknownUserCostsOneBcryptOfTheFilesHighestCost() async throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwords = directory.appendingPathComponent("htpasswd").path
        let dearer = Bcrypt.hash("other", cost: 6)
        try "node:\(Bcrypt.hash("right", cost: 4))\nbuilder:\(dearer)\n".write(toFile: passwords, atomically: true, encoding: .utf8)
        let file = try HtpasswdFile(path: passwords)
        XCTAssertEqual(dearer.split(separator: "$")[1], "06")
        XCTAssertEqual(file.unknownUserCost, 6)
        let unknown = await file.verify(user: "nobody", password: "right")
        XCTAssertFalse(unknown)
        XCTAssertEqual(file.verifications.value, 1, "an unknown user was answered without a bcrypt")
        let wrong = await file.verify(user: "node", password: "wrong")
        XCTAssertFalse(wrong)
        XCTAssertEqual(file.verifications.value, 2)
        let right = await file.verify(user: "node", password: "right")
        XCTAssertTrue(right)
    }

    func testDownloadsGoOnDuringSixtyFourWrongPasswordUploads() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwords = directory.appendingPathComponent("htpasswd")
        try "node:\(Bcrypt.hash("right", cost: 11))\n".write(to: passwords, atomically: true, encoding: .utf8)
        let server = try ServerProcess(arguments: ["--basic-auth-file", passwords.path], dataDirectory: directory)
        defer { server.stop() }
        let blob = Array("a small blob\n".utf8)
        let authorised = server.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:right@")
        XCTAssertEqual(try TestHTTP.request("POST", authorised, body: blob).status, 201)
        let blobURL = server.shacacheURL + "/" + StreamingDigest.sha512Hex(of: blob)

        let wrong = server.shacacheURL.replacingOccurrences(of: "http://", with: "http://node:wrong@")
        let refused = Atomic(0)
        let flood = DispatchGroup()
        for _ in 0..<64 {
            flood.enter()
            Thread.detachNewThread {
                defer { flood.leave() }
                if (try? TestHTTP.request("POST", wrong, body: blob))?.status == 403 { refused.add(1, ordering: .relaxed) }
            }
        }
        // Downloads completed while wrong passwords were still being checked.
        var downloads = 0
        while refused.load(ordering: .relaxed) < 64 && downloads < 20 {
            let answer = try TestHTTP.request("GET", blobURL)
            XCTAssertEqual(answer.body, blob)
            if refused.load(ordering: .relaxed) < 64 { downloads += 1 }
        }
        flood.wait()
        XCTAssertEqual(refused.load(ordering: .relaxed), 64)
        XCTAssertGreaterThanOrEqual(downloads, 20, "downloads waited for the bcrypt flood")
    }
}
