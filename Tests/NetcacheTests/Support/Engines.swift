import Foundation

/// The real PostgreSQL and S3 store `scripts/test.sh` starts for the suite, on loopback, and
/// names in the environment. Each test takes a database or bucket of its own.
enum Engines {
    static let s3Credentials = ["AWS_ACCESS_KEY_ID": "test:tester", "AWS_SECRET_ACCESS_KEY": "testing"]

    private static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestFailure("\(name) is not set: run the suite with scripts/test.sh, which starts PostgreSQL and the S3 store")
        }
        return value
    }

    /// `postgresql://...` of a new, empty database.
    static func freshDatabase() throws -> String {
        let url = try variable("NETCACHE_TEST_POSTGRES_URL")
        let name = "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let created = try run(URL(fileURLWithPath: "/usr/bin/psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", "CREATE DATABASE \(name)"])
        guard created.status == 0 else { throw TestFailure("CREATE DATABASE: \(created.stderr)") }
        guard url.hasSuffix("/netcache") else { throw TestFailure("NETCACHE_TEST_POSTGRES_URL does not end in /netcache: \(url)") }
        return url.dropLast("netcache".count) + name
    }

    /// Runs SQL on a test database; the rows, tab-separated.
    static func sql(_ url: String, _ statement: String) throws -> [String] {
        let result = try run(URL(fileURLWithPath: "/usr/bin/psql"), ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", statement])
        guard result.status == 0 else { throw TestFailure("psql: \(result.stderr)") }
        return result.output.split(separator: "\n").map(String.init)
    }

    static func s3Endpoint() throws -> String {
        try variable("NETCACHE_TEST_S3_ENDPOINT")
    }

    /// The name of a new, empty bucket.
    static func freshBucket() throws -> String {
        let name = "t-" + UUID().uuidString.lowercased().prefix(18)
        let response = try s3("PUT", "/\(name)")
        guard response.status == 200 else { throw TestFailure("create bucket \(name): HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))") }
        return name
    }

    /// A signed request to the store, made by curl's own SigV4 (not ours).
    static func s3(_ method: String, _ path: String) throws -> (status: Int, body: Data) {
        let endpoint = try s3Endpoint()
        let authority = endpoint.replacingOccurrences(of: "http://", with: "http://test%3Atester:testing@")
        let result = try run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-s", "-g", "-X", method, "--aws-sigv4", "aws:amz:us-east-1:s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-w", "\n%{http_code}", authority + path])
        guard result.status == 0, let newline = result.stdout.lastIndex(of: UInt8(ascii: "\n")), let status = Int(String(decoding: result.stdout[(newline + 1)...], as: UTF8.self)) else {
            throw TestFailure("curl \(method) \(path): \(result.stderr)")
        }
        return (status, result.stdout[..<newline])
    }

    /// The keys of a bucket, as its listing names them.
    static func objects(in bucket: String) throws -> [String] {
        let listing = try s3("GET", "/\(bucket)?list-type=2")
        guard listing.status == 200 else { throw TestFailure("ListObjectsV2: HTTP \(listing.status)") }
        return String(decoding: listing.body, as: UTF8.self).components(separatedBy: "<Key>").dropFirst().map { String($0.prefix { $0 != "<" }) }
    }

    /// The keys of the bucket's multipart uploads not completed nor aborted.
    static func pendingUploads(in bucket: String) throws -> [String] {
        // curl 7.88 signs a bare `?uploads` wrongly; S3 takes `uploads=` alike.
        let listing = try s3("GET", "/\(bucket)?uploads=")
        guard listing.status == 200 else { throw TestFailure("ListMultipartUploads: HTTP \(listing.status)") }
        return String(decoding: listing.body, as: UTF8.self).components(separatedBy: "<Key>").dropFirst().map { String($0.prefix { $0 != "<" }) }
    }

    /// `serve` options putting blobs in `bucket` and entries in `database`.
    static func serverArguments(bucket: String, database: String, extra: [String] = []) throws -> [String] {
        ["--store", "s3://\(bucket)/blobs", "--s3-endpoint", try s3Endpoint(), "--directory", database] + extra
    }
}
