import Foundation
import XCTest

/// S3 lists at most 1,000 keys a page: what walks a bucket follows its continuation tokens
/// to the last key. 1,005 blobs put straight into a real bucket, then counted by
/// `admin usage` and all swept by `admin sweep`.
final class S3ListingTests: XCTestCase {
    private static let count = 1_005

    /// Puts `count` objects named like blobs under `blobs/`, in parallel through one curl.
    private func fill(_ bucket: String) throws -> Set<String> {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let body = directory.appendingPathComponent("body").path
        try Data("a blob in a large bucket\n".utf8).write(to: URL(fileURLWithPath: body))
        let names = Set((0..<Self.count).map { Interop.sha512(Data("object \($0)".utf8)) })
        // The access key holds a colon: it goes in the URL, escaped, as Engines.s3 sends it.
        let key = try XCTUnwrap(Engines.s3Credentials["AWS_ACCESS_KEY_ID"]), secret = try XCTUnwrap(Engines.s3Credentials["AWS_SECRET_ACCESS_KEY"])
        let escapedKey = try XCTUnwrap(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let endpoint = try Engines.s3Endpoint().replacingOccurrences(of: "http://", with: "http://\(escapedKey):\(secret)@")
        let lines = names.map { "upload-file = \"\(body)\"\nurl = \"\(endpoint)/\(bucket)/blobs/\($0)\"\n" }
        let config = directory.appendingPathComponent("curl.cfg").path
        try lines.joined().write(toFile: config, atomically: true, encoding: .utf8)
        let put = try NetcacheTests.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-sS", "-f", "-Z", "--parallel-max", "16", "--aws-sigv4", "aws:amz:us-east-1:s3",
             "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-o", "/dev/null", "-K", config])
        guard put.status == 0 else { throw TestFailure("curl PUT: \(put.stderr)") }
        return names
    }

    func testUsageAndSweepWalkPastTheFirstThousandKeys() throws {
        let (bucket, database) = (try Engines.freshBucket(), try Engines.freshDatabase())
        let names = try fill(bucket)
        XCTAssertEqual(try Engines.objects(in: bucket).count, 1_000, "the store answers 1,000 keys a page")
        let shared = try Engines.serverArguments(bucket: bucket, database: database)
        let admin = try TemporaryDirectory.make().appendingPathComponent("admin").path
        // Last-Modified counts whole seconds, rounded up: only two seconds on does every
        // object read as older than the sweep's retention of 0.
        sleep(2)

        let usage = try NetcacheTests.run(Binaries.netcache, ["admin", "usage", "--data", admin] + shared, environment: Engines.s3Credentials)
        XCTAssertEqual(usage.status, 0, usage.stderr)
        XCTAssertTrue(usage.output.hasPrefix("blobs: \(Self.count), \(Self.count * 25) bytes stored\n"), usage.output)

        let swept = try NetcacheTests.run(
            Binaries.netcache, ["admin", "sweep", "--retain-unreferenced", "0", "--apply", "--data", admin] + shared, environment: Engines.s3Credentials)
        XCTAssertEqual(swept.status, 0, swept.stderr)
        let removed = Set(swept.output.split(separator: "\n").filter { $0.hasPrefix("removed ") }.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        XCTAssertEqual(removed, names)
        XCTAssertEqual(try Engines.objects(in: bucket), [])
    }
}
