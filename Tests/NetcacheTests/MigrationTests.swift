import Foundation
import NetcacheProtocol
import XCTest

/// `netcache migrate` between a data directory and the shared backends (the real S3 store
/// and PostgreSQL), both ways, through an interruption.
final class MigrationTests: XCTestCase {
    private var directory: URL!
    private var bucket: String!
    private var database: String!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        bucket = try Engines.freshBucket()
        database = try Engines.freshDatabase()
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func migrate(_ arguments: [String]) throws -> CommandResult {
        try NetcacheTests.run(Binaries.netcache, ["migrate", "--s3-endpoint", try Engines.s3Endpoint()] + arguments, environment: Engines.s3Credentials)
    }

    private var shared: [String] { ["--to-store", "s3://\(bucket!)/blobs", "--to-directory", database] }

    private func entry(_ info: String) -> [UInt8] {
        Array(JSONValue.array([.string(info), .string("c2ln")]).pythonJSON.utf8)
    }

    /// A data directory filled through a server: blobs (one past the multipart threshold)
    /// and entries under two keys. Returns the blobs and the listings as served.
    private func populate(_ source: ServerProcess, blobs count: Int) throws -> (blobs: [Data], listings: [String: String]) {
        var blobs = (0..<count).map { Interop.bytes(100_000 + $0, seed: UInt64($0)) }
        blobs.append(Interop.bytes(70 << 20, seed: 99))
        for blob in blobs {
            XCTAssertEqual(try TestHTTP.request("POST", source.shacacheURL, body: Array(blob)).status, 201)
        }
        let keys = ["file-urlmd5:one", "slapos-binary-cache:two"]
        for (index, blob) in blobs.prefix(5).enumerated() {
            let body = entry(#"{"sha512": "\#(Interop.sha512(blob))", "n": \#(index), "name": "caf\u00e9"}"#)
            XCTAssertEqual(try TestHTTP.request("PUT", source.shadirURL + "/" + keys[index % 2], body: body).status, 201)
        }
        var listings: [String: String] = [:]
        for key in keys { listings[key] = try TestHTTP.request("GET", source.shadirURL + "/" + key).text }
        return (blobs, listings)
    }

    private func assertServes(_ server: ServerProcess, _ blobs: [Data], _ listings: [String: String], file: StaticString = #filePath, line: UInt = #line) throws {
        for blob in blobs {
            let served = try TestHTTP.request("GET", server.shacacheURL + "/" + Interop.sha512(blob))
            XCTAssertEqual(served.status, 200, file: file, line: line)
            XCTAssertTrue(Data(served.body) == blob, "blob \(Interop.sha512(blob).prefix(16)) differs", file: file, line: line)
        }
        for (key, listing) in listings {
            XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/" + key).text, listing, key, file: file, line: line)
        }
    }

    func testADataDirectoryMovesOntoS3AndPostgreSQLAndBackByteForByte() throws {
        let source = try ServerProcess(dataDirectory: directory)
        let (blobs, listings) = try populate(source, blobs: 3)
        // Beside the live server: the source is only read.
        let moved = try migrate(["--from", source.dataDirectory.path] + shared)
        XCTAssertEqual(moved.status, 0, moved.stderr)
        XCTAssertEqual(moved.output, "4 blobs copied (0 already there), 4 entries added (0 already there)\n")
        source.stop()

        let sharedDirectory = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: sharedDirectory, withIntermediateDirectories: true)
        let onShared = try ServerProcess(arguments: try Engines.serverArguments(bucket: bucket, database: database), dataDirectory: sharedDirectory, environment: Engines.s3Credentials)
        try assertServes(onShared, blobs, listings)
        onShared.stop()

        let again = try migrate(["--from", source.dataDirectory.path] + shared)
        XCTAssertEqual(again.output, "0 blobs copied (4 already there), 0 entries added (4 already there)\n", again.stderr)

        let back = directory.appendingPathComponent("back")
        let returned = try migrate(["--from-store", "s3://\(bucket!)/blobs", "--from-directory", database, "--to", back.appendingPathComponent("data").path])
        XCTAssertEqual(returned.status, 0, returned.stderr)
        XCTAssertEqual(returned.output, "4 blobs copied (0 already there), 4 entries added (0 already there)\n")
        let onReturned = try ServerProcess(dataDirectory: back)
        try assertServes(onReturned, blobs, listings)
        XCTAssertEqual(onReturned.storedBlobs().sorted(), source.storedBlobs().sorted())
    }

    func testAnInterruptedMigrationResumesAndCopiesTheRest() throws {
        let source = try ServerProcess(dataDirectory: directory)
        let (blobs, listings) = try populate(source, blobs: 40)
        source.stop()

        let process = Process()
        process.executableURL = Binaries.netcache
        process.arguments = ["migrate", "--s3-endpoint", try Engines.s3Endpoint(), "--from", source.dataDirectory.path] + shared
        process.environment = ProcessInfo.processInfo.environment.merging(Engines.s3Credentials) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntil(timeout: 60) { try Engines.objects(in: bucket).count >= 5 }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let copiedBefore = try Engines.objects(in: bucket).count
        XCTAssertLessThan(copiedBefore, blobs.count, "the migration finished before it was killed")
        XCTAssertEqual(try Engines.sql(database, "SELECT count(*) FROM shadir_entry"), ["0"], "entries come after every blob")

        let resumed = try migrate(["--from", source.dataDirectory.path] + shared)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.output, "\(blobs.count - copiedBefore) blobs copied (\(copiedBefore) already there), 5 entries added (0 already there)\n")
        let sharedDirectory = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: sharedDirectory, withIntermediateDirectories: true)
        let onShared = try ServerProcess(arguments: try Engines.serverArguments(bucket: bucket, database: database), dataDirectory: sharedDirectory, environment: Engines.s3Credentials)
        try assertServes(onShared, blobs, listings)
    }

    func testABlobThatDoesNotMatchItsNameIsReportedAndNotCopied() throws {
        let source = try ServerProcess(dataDirectory: directory)
        let good = Array("good blob".utf8), bad = Array("bad blob".utf8)
        for blob in [good, bad] { XCTAssertEqual(try TestHTTP.request("POST", source.shacacheURL, body: blob).status, 201) }
        source.stop()
        let badSHA = Interop.sha512(Data(bad))
        let badPath = source.dataDirectory.appendingPathComponent("shacache/\(badSHA.prefix(2))/\(badSHA)")
        try Data("rotten".utf8).write(to: badPath)

        let result = try migrate(["--from", source.dataDirectory.path] + shared)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("blob \(badSHA.prefix(16))… not copied: the bytes hash to"), result.stderr)
        XCTAssertTrue(result.stderr.contains("1 blob(s) of the source do not match their SHA-512 and were not copied"), result.stderr)
        XCTAssertEqual(try Engines.objects(in: bucket), ["blobs/" + Interop.sha512(Data(good))])
    }

    func testASideWithoutAPlaceForEachKindIsRefused() throws {
        let result = try migrate(["--from-store", "s3://\(bucket!)/blobs"] + shared)
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("say where to copy from: --from DIR, or both --from-store and --from-directory"), result.stderr)
    }
}
