import Foundation
import XCTest

@testable import NetcacheServer

/// `--s3-credentials-file`: the shared credentials file every S3 tool reads, parsed and
/// then used by `serve` against the real S3 store with no key in the environment: the
/// server signs with the key of the file's profile (`AWS_PROFILE`, else `default`).
final class S3CredentialsTests: XCTestCase {
    private var servers: [ServerProcess] = []

    override func tearDown() {
        servers.forEach { $0.stop() }
    }

    func testTheProfilesOfASharedCredentialsFileAreParsed() throws {
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

    /// A file whose `default` profile has a wrong secret and whose `ci` profile the store's.
    private func credentialsFile() throws -> String {
        let file = try TemporaryDirectory.make().appendingPathComponent("credentials").path
        let key = try XCTUnwrap(Engines.s3Credentials["AWS_ACCESS_KEY_ID"])
        let secret = try XCTUnwrap(Engines.s3Credentials["AWS_SECRET_ACCESS_KEY"])
        try "[default]\naws_access_key_id = \(key)\naws_secret_access_key = not-\(secret)\n\n[ci]\naws_access_key_id = \(key)\naws_secret_access_key = \(secret)\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    private func serve(bucket: String, file: String, profile: String) throws -> ServerProcess {
        let environment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": profile]
        let server = try ServerProcess(
            arguments: ["--store", "s3://\(bucket)/blobs", "--s3-endpoint", try Engines.s3Endpoint(), "--s3-credentials-file", file], environment: environment)
        servers.append(server)
        return server
    }

    func testTheServerStoresBlobsWithTheKeyOfTheFilesProfile() throws {
        let bucket = try Engines.freshBucket()
        let server = try serve(bucket: bucket, file: try credentialsFile(), profile: "ci")
        let blob = Array("stored with the key of [ci]".utf8)
        let upload = try TestHTTP.request("POST", server.shacacheURL, body: blob)
        XCTAssertEqual(upload.status, 201, server.log)
        XCTAssertEqual(try Engines.objects(in: bucket), ["blobs/" + upload.text])
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + upload.text).body, blob)
    }

    /// Without `AWS_PROFILE`, or with it empty, the `default` profile's wrong secret is
    /// what the server signs with: the store refuses it, and so the server refuses to start.
    func testWithoutAProfileTheDefaultSectionIsUsed() throws {
        let bucket = try Engines.freshBucket()
        let file = try credentialsFile()
        let noKeys = ["-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY", "-u", "AWS_SESSION_TOKEN"]
        for profile in [["-u", "AWS_PROFILE"], ["AWS_PROFILE="]] {
            let arguments = noKeys + profile + [
                Binaries.netcache.path, "serve", "--listen", "127.0.0.1:0", "--data", try TemporaryDirectory.make().path, "--store", "s3://\(bucket)/blobs",
                "--s3-endpoint", try Engines.s3Endpoint(), "--s3-credentials-file", file,
            ]
            let refused = try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/env"), arguments, timeout: 30)
            XCTAssertEqual(refused.status, 1, "\(profile)")
            XCTAssertTrue(
                refused.stderr.hasSuffix("netcache: error: s3://\(bucket)/blobs: access denied; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --s3-credentials-file)\n"),
                "\(profile): \(refused.stderr)")
        }
    }
}
