import Foundation
import NetcacheProtocol
import XCTest

/// `netcache admin` on a data directory and on the shared backends: removals leave a
/// store a server serves consistently.
final class AdminTests: XCTestCase {
    private func entry(_ sha512: String, _ n: Int) -> [UInt8] {
        Array(JSONValue.array([.string(#"{"sha512": "\#(sha512)", "n": \#(n)}"#), .string("")]).pythonJSON.utf8)
    }

    private func admin(_ arguments: [String], storage: [String]) throws -> CommandResult {
        try NetcacheTests.run(Binaries.netcache, ["admin"] + arguments + storage, environment: Engines.s3Credentials)
    }

    func testRemovalsAndReportsOnEitherStorage() throws {
        let dataRoot = try TemporaryDirectory.make()
        let shared = try Engines.serverArguments(bucket: try Engines.freshBucket(), database: try Engines.freshDatabase())
        for (name, storageArguments) in [("data directory", [String]()), ("S3 and PostgreSQL", shared)] {
            let directory = dataRoot.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let storage = ["--data", directory.appendingPathComponent("data").path] + storageArguments
            var server = try ServerProcess(arguments: storageArguments, dataDirectory: directory, environment: Engines.s3Credentials)
            let kept = Array(Interop.bytes(3000, seed: 11)), dropped = Array(Interop.bytes(5000, seed: 12))
            let (keptSHA, droppedSHA) = (Interop.sha512(Data(kept)), Interop.sha512(Data(dropped)))
            for blob in [kept, dropped] { XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201, name) }
            for (key, body) in [("pypi:a=1", entry(keptSHA, 1)), ("pypi:a=1", entry(droppedSHA, 2)), ("pypi:a=1", entry(keptSHA, 3)), ("netcache:0123", entry(droppedSHA, 4))] {
                XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/" + key, body: body).status, 201, name)
            }
            server.stop()

            let keys = try admin(["keys", "--prefix", "pypi:"], storage: storage)
            XCTAssertEqual(keys.output, "pypi:a=1 3 8000\n", name + keys.stderr)
            let keysJSON = try admin(["keys", "--json"], storage: storage)
            XCTAssertEqual(keysJSON.output, #"[{"key": "pypi:a=1", "entries": 3, "bytes": 8000}, {"key": "netcache:0123", "entries": 1, "bytes": 5000}]"# + "\n", name)
            let usage = try admin(["usage", "--json"], storage: storage)
            XCTAssertEqual(
                usage.output,
                #"{"blobs": 2, "bytes": 8000, "logical_bytes": 13000, "entries_by_kind": [{"kind": "pypi", "entries": 3}, {"kind": "netcache", "entries": 1}], "largest_releases": [{"key": "netcache:0123", "bytes": 5000}]}"# + "\n",
                name + usage.stderr)

            let refused = try admin(["remove-blob", droppedSHA], storage: storage)
            XCTAssertEqual(refused.status, 1, name)
            XCTAssertTrue(refused.stderr.contains("is named by entries under pypi:a=1, netcache:0123: remove those first"), name + refused.stderr)
            XCTAssertEqual(try admin(["remove-entry", "pypi:a=1", droppedSHA], storage: storage).output, "1 entry removed\n", name)
            XCTAssertEqual(try admin(["remove-entry", "netcache:0123", droppedSHA], storage: storage).output, "1 entry removed\n", name)
            let none = try admin(["remove-entry", "netcache:0123", droppedSHA], storage: storage)
            XCTAssertEqual(none.status, 1, name)
            XCTAssertEqual(try admin(["remove-blob", droppedSHA], storage: storage).output, "removed \(droppedSHA)\n", name)

            server = try ServerProcess(arguments: storageArguments, dataDirectory: directory, environment: Engines.s3Credentials)
            let listing = try TestHTTP.request("GET", server.shadirURL + "/pypi:a=1")
            XCTAssertEqual(listing.text, "[" + String(decoding: entry(keptSHA, 1), as: UTF8.self) + ", " + String(decoding: entry(keptSHA, 3), as: UTF8.self) + "]", name)
            XCTAssertEqual(try TestHTTP.request("GET", server.shadirURL + "/netcache:0123").status, 404, name)
            XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + droppedSHA).status, 404, name)
            XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + keptSHA).body, kept, name)

            // A data directory in use is refused, not changed under its server.
            if storageArguments.isEmpty {
                let busy = try admin(["remove-entry", "pypi:a=1", keptSHA], storage: storage)
                XCTAssertEqual(busy.status, 1)
                XCTAssertTrue(busy.stderr.contains("is in use by another netcache serve"), busy.stderr)
            }
            server.stop()
        }
    }

    func testTheSweepRemovesOnlyOldUnreferencedBlobsAndOnlyWithApply() throws {
        let directory = try TemporaryDirectory.make()
        var server = try ServerProcess(dataDirectory: directory)
        let blobs = (0..<3).map { Array(Interop.bytes(1000 + $0, seed: UInt64(20 + $0))) }
        let shas = blobs.map { Interop.sha512(Data($0)) }
        for blob in blobs { XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201) }
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:kept=1", body: entry(shas[0], 1)).status, 201)
        server.stop()
        // Blob 0 is named and old; blob 1 is old and named by nothing; blob 2 is recent.
        for sha in shas.prefix(2) {
            let file = server.dataDirectory.appendingPathComponent("shacache/\(sha.prefix(2))/\(sha)").path
            XCTAssertEqual(try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/touch"), ["-d", "40 days ago", file]).status, 0)
        }
        let storage = ["--data", server.dataDirectory.path]
        let dry = try admin(["sweep", "--retain-unreferenced", "30"], storage: storage)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let lines = dry.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, dry.output)
        XCTAssertTrue(lines[0].hasPrefix("would remove \(shas[1]) 1001 "), dry.output)
        XCTAssertEqual(lines[1], "1 unreferenced blob(s), 1001 bytes, not removed (dry run: give --apply)")
        XCTAssertEqual(server.storedBlobs().count, 3, "a dry run removed something")

        // Blob 0 loses its entry now: it counts as used now, and is kept, however old.
        XCTAssertEqual(try admin(["remove-entry", "pypi:kept=1", shas[0]], storage: storage).output, "1 entry removed\n")
        let applied = try admin(["sweep", "--retain-unreferenced", "30", "--apply"], storage: storage)
        XCTAssertTrue(applied.output.hasPrefix("removed \(shas[1]) 1001 "), applied.output)
        XCTAssertEqual(applied.output.split(separator: "\n").count, 2, applied.output)
        server = try ServerProcess(dataDirectory: directory)
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + shas[1]).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + shas[0]).body, blobs[0])
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + shas[2]).body, blobs[2])
        server.stop()

        // On S3 the last use is the object's last modification: a zero-day retention takes
        // every unreferenced blob.
        let shared = try Engines.serverArguments(bucket: try Engines.freshBucket(), database: try Engines.freshDatabase())
        let sharedDirectory = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: sharedDirectory, withIntermediateDirectories: true)
        server = try ServerProcess(arguments: shared, dataDirectory: sharedDirectory, environment: Engines.s3Credentials)
        for blob in blobs.prefix(2) { XCTAssertEqual(try TestHTTP.request("POST", server.shacacheURL, body: blob).status, 201) }
        XCTAssertEqual(try TestHTTP.request("PUT", server.shadirURL + "/pypi:kept=1", body: entry(shas[0], 1)).status, 201)
        sleep(1)
        let swept = try admin(["sweep", "--retain-unreferenced", "0", "--apply"], storage: ["--data", sharedDirectory.appendingPathComponent("admin").path] + shared)
        XCTAssertTrue(swept.output.hasPrefix("removed \(shas[1]) 1001 "), swept.output + swept.stderr)
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + shas[1]).status, 404)
        XCTAssertEqual(try TestHTTP.request("HEAD", server.shacacheURL + "/" + shas[0]).status, 200)
        // Its last entry removed, the object is copied onto itself to renew its date: still the blob.
        XCTAssertEqual(try admin(["remove-entry", "pypi:kept=1", shas[0]], storage: ["--data", sharedDirectory.appendingPathComponent("admin").path] + shared).output, "1 entry removed\n")
        XCTAssertEqual(try TestHTTP.request("GET", server.shacacheURL + "/" + shas[0]).body, blobs[0])
    }
}
