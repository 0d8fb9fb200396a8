import Foundation
import XCTest

@testable import NetcacheServer

/// `--s3-credentials-file`: the shared credentials file every S3 tool reads.
final class S3CredentialsTests: XCTestCase {
    func testTheProfileOfASharedCredentialsFileIsRead() throws {
        let directory = try TemporaryDirectory.make()
        let file = directory.appendingPathComponent("credentials").path
        try "[default]\naws_access_key_id = AKIDEFAULT\naws_secret_access_key = s1\n\n[ci]\naws_access_key_id = AKICI\naws_secret_access_key = s2\naws_session_token = t2\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let first = try S3Credentials.fromFile(file, profile: "default")
        XCTAssertEqual([first.accessKeyID, first.secretAccessKey], ["AKIDEFAULT", "s1"])
        XCTAssertNil(first.sessionToken)
        let other = try S3Credentials.fromFile(file, profile: "ci")
        XCTAssertEqual([other.accessKeyID, other.secretAccessKey, other.sessionToken], ["AKICI", "s2", "t2"])
        XCTAssertThrowsError(try S3Credentials.fromFile(file, profile: "none")) { error in
            XCTAssertEqual("\(error)", "\(file): no aws_access_key_id and aws_secret_access_key in [none]")
        }
        XCTAssertThrowsError(try S3Credentials.fromEnvironment([:])) { error in
            XCTAssertTrue("\(error)".contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "\(error)")
        }
    }
}
