import Foundation
import NetcacheProtocol
import XCTest

/// Interoperability with the real, unmodified Python client (`slapos.libnetworkcache` 0.30,
/// in the venv `scripts/interop-venv.sh` makes): both directions through our server, the
/// `--list` output of both download commands, old wrapped signatures, and the Python
/// client's `Connection: close` uploads. The Python side runs the scripts in Tests/interop/.
final class InteropTests: XCTestCase {
    private var server: ServerProcess!
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        server = try ServerProcess()
    }

    override func tearDown() {
        server?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: 1. Python client against our server

    func testPythonClientUploadsIndexesSelectsAndDownloadsOnOurServer() throws {
        try Interop.requireVenv()
        let alice = try ourKey("alice")
        let config = try writeConfig("alice.cfg", key: alice.key, certificates: [alice.certificate])
        let content = Interop.bytes(300_000, seed: 1)
        let file = try write("alice.bin", content)
        let sha = Interop.sha512(content)
        let key = "pypi:slapos.core=1.26.1"

        let upload = try python("upload.py", config, file, key, #"{"url": "http://example.com/a.tar.gz", "name": "alice", "version": [1, 2], "size": 300000}"#)
        XCTAssertEqual(upload.output, sha + "\n")
        XCTAssertEqual(server.storedBlobs().count, 1)

        // Stored as the Python producer wrote it: json.dumps defaults, sha512 first.
        let info = #"{"sha512": "\#(sha)", "url": "http://example.com/a.tar.gz", "name": "alice", "version": [1, 2], "size": 300000}"#
        let listing = try TestHTTP.request("GET", server.shadirURL + "/" + key)
        XCTAssertEqual(listing.status, 200)
        let entries = try ShadirListing.parse(listing.body)
        XCTAssertEqual(entries.map(\.info), [info])
        XCTAssertEqual(entries.first.flatMap { Data(base64Encoded: $0.signature) }?.count, 384, "RSA-3072 signature, unwrapped base64")

        XCTAssertEqual(try python("select_entries.py", config, key).output, info + "\n")
        XCTAssertEqual(try python("download.py", config, sha).stdout, content)

        // A trust list where only the second certificate matters still selects it.
        let mallory = try ourKey("mallory")
        let both = try writeConfig("both.cfg", key: nil, certificates: [mallory.certificate, alice.certificate])
        XCTAssertEqual(try python("select_entries.py", both, key).output, info + "\n")
        // An unrelated certificate only: nothing is trusted.
        let unrelated = try writeConfig("mallory.cfg", key: nil, certificates: [mallory.certificate])
        XCTAssertEqual(try python("select_entries.py", unrelated, key).output, "")
    }

    // MARK: 2. Our client reads what Python signed

    func testOurClientSelectsAndVerifiesEntriesThePythonClientSigned() throws {
        try Interop.requireVenv()
        // Keys as upstream's generate-signature-key makes them: RSA 1024, self-signed.
        let bob = try upstreamKey("bob")
        let config = try writeConfig("bob.cfg", key: bob.key, certificates: [bob.certificate])
        let key = "file-urlmd5:" + Interop.md5("http://example.com/bob.tar.gz")
        let first = Interop.bytes(70_000, seed: 2)
        let second = Interop.bytes(1_000, seed: 3)
        let firstSHA = try python("upload.py", config, try write("1", first), key, #"{"url": "http://example.com/bob.tar.gz", "version": [1, 0]}"#).output
        let secondSHA = try python("upload.py", config, try write("2", second), key, #"{"url": "http://example.com/bob.tar.gz", "version": [2, 0]}"#).output
        XCTAssertEqual(firstSHA, Interop.sha512(first) + "\n")
        XCTAssertEqual(secondSHA, Interop.sha512(second) + "\n")

        let download = try netcache("download", "-c", config, "--key", key)
        XCTAssertEqual(download.status, 0, download.stderr)
        XCTAssertEqual(download.stdout, first, "the first entry wins")
        XCTAssertEqual(try netcache("download", "-c", config, "--url", "http://example.com/bob.tar.gz").stdout, first)
        XCTAssertEqual(try netcache("download", "-c", config, "--key", key, "version>>[0]").stdout, second)
        let output = directory.appendingPathComponent("out.bin").path
        XCTAssertEqual(try netcache("download", "-c", config, "--key", key, "-o", output, "version==[2,0]").status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), second)

        let expected = """
            [
              {
                "sha512": "\(Interop.sha512(first))",
                "url": "http://example.com/bob.tar.gz",
                "version": [
                  1,
                  0
                ]
              },
              {
                "sha512": "\(Interop.sha512(second))",
                "url": "http://example.com/bob.tar.gz",
                "version": [
                  2,
                  0
                ]
              }
            ]

            """
        let ours = try netcache("download", "-c", config, "--key", key, "--list")
        XCTAssertEqual(ours.status, 0, ours.stderr)
        XCTAssertEqual(ours.output, expected)
        XCTAssertEqual(try python("cmd_download.py", "-c", config, "--key", key, "--list").output, expected)

        // Only an unrelated certificate: neither client finds anything.
        let mallory = try ourKey("mallory")
        let unrelated = try writeConfig("mallory.cfg", key: nil, certificates: [mallory.certificate])
        for arguments in [["--key", key], ["--key", key, "--list"], ["--url", "http://example.com/bob.tar.gz"]] {
            let result = try netcache(arguments: ["download", "-c", unrelated] + arguments)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertEqual(result.stdout, Data())
            let selected = arguments[0] == "--key" ? key : "file-urlmd5:" + Interop.md5(arguments[1])
            XCTAssertEqual(result.stderr, "netcache: error: no trusted entry under \(selected)\n")
            let upstream = try python("cmd_download.py", ["-c", unrelated] + arguments, check: false)
            XCTAssertEqual(upstream.status, 1)
            XCTAssertEqual(upstream.stderr, "No result found with given criteria.\n")
        }

        // A signing key missing from the trust list is refused by both, before any request.
        let refused = try writeConfig("refused.cfg", key: bob.key, certificates: [mallory.certificate])
        let ourRefusal = try netcache("download", "-c", refused, "--key", key)
        XCTAssertNotEqual(ourRefusal.status, 0)
        XCTAssertTrue(ourRefusal.stderr.contains("signature-private-key-file \(bob.key) does not match any certificate of signature-certificate-list"), ourRefusal.stderr)
        let pythonRefusal = try python("select_entries.py", [refused, key], check: false)
        XCTAssertNotEqual(pythonRefusal.status, 0)
        XCTAssertTrue(pythonRefusal.stderr.contains("no matching certificate for private key"), pythonRefusal.stderr)
    }

    // MARK: 3. Python reads what our client signed

    func testPythonClientSelectsAndVerifiesEntriesOurClientSigned() throws {
        try Interop.requireVenv()
        let carol = try ourKey("carol")
        let config = try writeConfig("carol.cfg", key: carol.key, certificates: [carol.certificate])
        let reader = try writeConfig("reader.cfg", key: nil, certificates: [carol.certificate])
        let mallory = try ourKey("mallory")
        let unrelated = try writeConfig("mallory.cfg", key: nil, certificates: [mallory.certificate])

        // --file --key with KEY=VALUE metadata.
        let content = Interop.bytes(200_000, seed: 4)
        let sha = Interop.sha512(content)
        let key = "slapos:carol-test"
        let upload = try netcache("upload", "-c", config, "--file", try write("c.bin", content), "--key", key, "a=b", "c=d")
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertEqual(upload.output, "sha512: \(sha)\nkey: \(key)\n")
        XCTAssertEqual(try python("select_entries.py", reader, key).output, #"{"sha512": "\#(sha)", "a": "b", "c": "d"}"# + "\n")
        XCTAssertEqual(try python("download.py", reader, sha).stdout, content)
        XCTAssertEqual(try python("cmd_download.py", "-c", reader, "--key", key).stdout, content)

        // --file --url: indexed under file-urlmd5:<md5(URL)> with the URL in the metadata.
        let url = "http://example.com/dist/carol-1.0.tar.gz?mirror=1"
        let urlContent = Interop.bytes(5_000, seed: 5)
        let urlSHA = Interop.sha512(urlContent)
        let urlKey = "file-urlmd5:" + Interop.md5(url)
        let byURL = try netcache("upload", "-c", config, "--file", try write("u.bin", urlContent), "--url", url)
        XCTAssertEqual(byURL.status, 0, byURL.stderr)
        XCTAssertEqual(byURL.output, "sha512: \(urlSHA)\nkey: \(urlKey)\n")
        XCTAssertEqual(try python("select_entries.py", reader, urlKey).output, #"{"sha512": "\#(urlSHA)", "url": "\#(url)"}"# + "\n")
        XCTAssertEqual(try python("cmd_download.py", "-c", reader, "--url", url).stdout, urlContent)

        // --url alone: the data is fetched from the URL (here, our own shacache).
        let blobURL = server.shacacheURL + "/" + sha
        let fetched = try netcache("upload", "-c", config, "--url", blobURL, "origin=shacache")
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertEqual(fetched.output, "sha512: \(sha)\nkey: file-urlmd5:\(Interop.md5(blobURL))\n")
        XCTAssertEqual(
            try python("select_entries.py", reader, "file-urlmd5:" + Interop.md5(blobURL)).output,
            #"{"sha512": "\#(sha)", "origin": "shacache", "url": "\#(blobURL)"}"# + "\n")
        XCTAssertEqual(try python("cmd_download.py", "-c", reader, "--url", blobURL).stdout, content)

        // --metadata with JSON values, then KEY=VALUE pairs overriding in place.
        let metadata = try write("m.json", Data(#"{"z": 1, "a": [1, "x", null, true], "c": "from file", "f": 2.5, "o": {"k": "v"}}"#.utf8))
        let withMetadata = try netcache("upload", "-c", config, "--file", try write("c.bin", content), "--key", key, "--metadata", metadata, "c=d", "b=e")
        XCTAssertEqual(withMetadata.status, 0, withMetadata.stderr)
        XCTAssertEqual(
            try python("select_entries.py", reader, key).output,
            #"{"sha512": "\#(sha)", "a": "b", "c": "d"}"# + "\n"
                + #"{"sha512": "\#(sha)", "z": 1, "a": [1, "x", null, true], "c": "d", "f": 2.5, "o": {"k": "v"}, "b": "e"}"# + "\n")

        // Wrong certificate: Python finds none of them.
        for selectedKey in [key, urlKey, "file-urlmd5:" + Interop.md5(blobURL)] {
            let none = try python("select_entries.py", unrelated, selectedKey)
            XCTAssertEqual(none.output, "")
        }
        let missing = try python("cmd_download.py", ["-c", unrelated, "--key", key], check: false)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "No result found with given criteria.\n")
        XCTAssertEqual(missing.stdout, Data())
    }

    /// Same file, key, metadata and signing key: our `upload` and Python's
    /// `networkcache-upload` PUT byte-identical entries (PKCS#1 v1.5 signatures are
    /// deterministic), so each one's entries are the other's.
    func testOurUploadWritesTheSameEntryAsPythonCmdUpload() throws {
        try Interop.requireVenv()
        let dave = try ourKey("dave", bits: 1024)
        let config = try writeConfig("dave.cfg", key: dave.key, certificates: [dave.certificate])
        let file = try write("d.bin", Interop.bytes(10_000, seed: 6))
        let metadata = try write("m.json", Data(#"{"software_url": "https://lab.example/software.cfg", "os": ["debian", "12", "bookworm"], "n": 3, "x": -0.5, "nested": {"b": 1, "a": [true, false, null]}, "text": "caf\u00e9 \"quoted\" \\ / tab\t"}"#.utf8))
        try python("cmd_upload.py", "-c", config, "--file", file, "--key", "python:entry", "--metadata", metadata, "multiarch=x86_64-linux-gnu", "n=overridden")
        let ours = try netcache("upload", "-c", config, "--file", file, "--key", "ours:entry", "--metadata", metadata, "multiarch=x86_64-linux-gnu", "n=overridden")
        XCTAssertEqual(ours.status, 0, ours.stderr)

        let pythonEntry = try TestHTTP.request("GET", server.shadirURL + "/python:entry")
        let ourEntry = try TestHTTP.request("GET", server.shadirURL + "/ours:entry")
        XCTAssertEqual(pythonEntry.status, 200)
        XCTAssertEqual(ourEntry.text, pythonEntry.text)
        XCTAssertTrue(pythonEntry.text.contains(#"\"n\": \"overridden\", \"x\": -0.5, \"nested\": {\"b\": 1, \"a\": [true, false, null]}, \"text\": \"caf\\u00e9 \\\"quoted\\\" \\\\ / tab\\t\", \"multiarch\": \"x86_64-linux-gnu\"}"#), pythonEntry.text)
    }

    /// The download cache both ways: what `networkcache-upload --url` filed, `netcache fetch`
    /// takes once the origin is down; what `netcache fetch` filed, `networkcache-download
    /// --url` gets, byte for byte.
    func testDownloadCacheEntriesWorkBothWaysWithThePythonTools() throws {
        try Interop.requireVenv()
        let erin = try ourKey("erin")
        let config = try writeConfig("erin.cfg", key: erin.key, certificates: [erin.certificate])
        let origin = try OriginServer(root: directory.appendingPathComponent("origin"))
        defer { origin.stop() }
        let pythonFiled = Interop.bytes(50_000, seed: 11)
        let ourFiled = Interop.bytes(60_000, seed: 12)
        try origin.serve("python.tar.gz", Array(pythonFiled))
        try origin.serve("ours.tar.gz", Array(ourFiled))

        try python("cmd_upload.py", "-c", config, "--url", origin.url + "/python.tar.gz")
        let fetched = try netcache("fetch", "-c", config, origin.url + "/ours.tar.gz", "-o", directory.appendingPathComponent("ours").path)
        XCTAssertEqual(fetched.output, directory.appendingPathComponent("ours").path + ": from the origin, filed in the cache\n", fetched.stderr)
        origin.stop()

        let fromCache = try netcache("fetch", "-c", config, origin.url + "/python.tar.gz", "-o", directory.appendingPathComponent("python").path)
        XCTAssertEqual(fromCache.output, directory.appendingPathComponent("python").path + ": from the cache\n", fromCache.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: directory.appendingPathComponent("python").path), pythonFiled)
        XCTAssertEqual(try python("cmd_download.py", "-c", config, "--url", origin.url + "/ours.tar.gz").stdout, ourFiled)
    }

    // MARK: 4. --list output, byte for byte

    func testListOutputIsByteIdenticalToPythonForEveryCriteriaSet() throws {
        try Interop.requireVenv()
        let erin = try ourKey("erin")
        let config = try writeConfig("erin.cfg", key: erin.key, certificates: [erin.certificate])
        let key = "list:entries"
        // Indexed by our CLI with JSON metadata...
        let ourEntries = [
            #"{"name": "x", "version": [4, 1]}"#,
            #"{"name": "x", "version": [4, 2], "extra": {"b": [true, null], "a": 1.5}}"#,
            #"{"name": "y", "version": [4, 3]}"#,
            #"{"name": "x", "version": [4, 2, 1], "size": 12}"#,
            #"{"name": "x", "version": "4.3"}"#,
            #"{"name": "z"}"#,
            #"{"name": "x", "version": [5]}"#,
            #"{"name": "x", "version": [4, 2], "size": 7}"#,
            #"{"name": "n", "version": 3}"#,
            #"{"name": "n", "version": 2.5, "size": 12.0}"#,
            #"{"name": "n", "version": true}"#,
            #"{"name": "n", "version": null}"#,
            #"{"name": "café", "version": [4, 2], "tags": ["b", "a"], "size": 0}"#,
        ]
        for (number, metadata) in ourEntries.enumerated() {
            let file = try write("e\(number)", Interop.bytes(100 + number, seed: UInt64(10 + number)))
            let result = try netcache("upload", "-c", config, "--file", file, "--key", key, "--metadata", try write("m\(number).json", Data(metadata.utf8)))
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        // ... and by the Python client's index().
        let sha = Interop.sha512(Interop.bytes(100, seed: 10))
        try python("index.py", config, key, #"{"sha512": "\#(sha)", "name": "python", "version": [4, "2"]}"#)
        try python("index.py", config, key, #"{"sha512": "\#(sha)", "version": [4, 2], "name": "x", "origin": "python"}"#)

        // criteria -> number of entries Python lists (0: "No result found").
        let cases: [([String], Int)] = [
            ([], 15),
            (["version>=[4,2]"], 7),
            (["version>=[4,2]", "version<<Infinity"], 0),
            (["version<<Infinity"], 1),
            (["version>>[0]"], 1),
            (["version<<[9]"], 1),
            (["version>=[4,2]", "version<<[9]"], 4),
            (["version==[4,2]"], 4),
            (["name==\"x\""], 7),
            (["name==\"x\"", "version>>[0]"], 1),
            (["name<\"y\"", "name>\"n\""], 8),
            (["name==\"café\""], 1),
            (["size>10"], 2),
            (["size<<100"], 1),
            (["size>>-1"], 2),
            (["version>1"], 2),
            (["version==1"], 1),
            (["version==null"], 1),
            (["version>=null"], 0),
            (["extra=={\"a\": 1.5, \"b\": [true, null]}"], 1),
            (["tags<[\"b\"]"], 0),
            (["tags>[\"b\"]"], 1),
            (["missing==1"], 0),
            (["name==\"nobody\""], 0),
            (["==1"], 0),
        ]
        try assertListsMatch(config: config, key: key, cases: cases)

        // Criteria that do not parse: both refuse them.
        for criterion in ["name=x", "name==x", "version>=[4,"] {
            let upstream = try python("cmd_download.py", ["-c", config, "--key", key, "--list", criterion], check: false)
            XCTAssertEqual(upstream.status, 1, criterion)
            XCTAssertEqual(upstream.stdout, Data(), criterion)
            let ours = try netcache("download", "-c", config, "--key", key, "--list", criterion)
            XCTAssertNotEqual(ours.status, 0, criterion)
            XCTAssertEqual(ours.stdout, Data(), criterion)
        }
    }

    /// Values whose text or comparison is easy to get subtly wrong, indexed by the Python
    /// client itself (so the info bytes are Python's).
    func testListOutputIsByteIdenticalToPythonForUnusualValues() throws {
        try Interop.requireVenv()
        let frank = try ourKey("frank")
        let config = try writeConfig("frank.cfg", key: frank.key, certificates: [frank.certificate])
        let key = "list:unusual"
        let sha = Interop.sha512(Data("unusual".utf8))
        let infos = [
            #"{"sha512": "\#(sha)", "n": 12345678901234567890, "s": "z"}"#,
            #"{"sha512": "\#(sha)", "n": 9500000000000000.0, "s": "\u00e9"}"#,
            #"{"sha512": "\#(sha)", "n": 1e16, "s": "e\u0301"}"#,
            #"{"sha512": "\#(sha)", "n": 0.1, "s": "\ud83d\ude00"}"#,
            #"{"sha512": "\#(sha)", "n": 1E2, "s": "\uffff"}"#,
            #"{"sha512": "\#(sha)", "n": -0.0, "s": "\u007f<>&'/\\\"\n\t\u0001"}"#,
            #"{"sha512": "\#(sha)", "n": 1e-7, "s": "A"}"#,
            #"{"sha512": "\#(sha)", "n": 123456789012.25, "s": ""}"#,
            #"{"sha512": "\#(sha)", "n": Infinity, "s": "inf"}"#,
            #"{"sha512": "\#(sha)", "n": NaN, "s": "nan"}"#,
            #"{"sha512": "\#(sha)", "n": 1, "Z": 1, "a": 2, "\u00e9": 3, "e\u0301": 4, "\ud83d\ude00": 5}"#,
        ]
        for info in infos { try python("index.py", config, key, info) }

        let cases: [([String], Int)] = [
            ([], 11),
            (["n>>0"], 1),
            (["n<<Infinity"], 1),
            (["n>100"], 5),
            (["n==100"], 1),
            (["n==0"], 1),
            (["n>=12345678901234567890"], 2),
            (["n>12345678901234567889"], 2),
            (["n<9500000000000000"], 6),
            (["s>>\"\""], 1),
            (["s<<\"\\uffff\""], 1),
            (["s>\"\\uffff\""], 1),
            (["s==\"\\u00e9\""], 1),
            (["s==\"e\\u0301\""], 1),
            (["\u{e9}==3"], 1),
            (["e\u{301}==4"], 1),
        ]
        try assertListsMatch(config: config, key: key, cases: cases)
    }

    // MARK: 5. Old entries: base64 wrapped every 76 characters

    func testWrappedBase64SignaturesVerifyInBothClients() throws {
        try Interop.requireVenv()
        // An old deployment's key: made as upstream did, RSA 1024.
        let keyFile = directory.appendingPathComponent("old.key").path
        let certFile = directory.appendingPathComponent("old.crt").path
        try openssl("req", "-x509", "-nodes", "-days", "36500", "-subj", "/CN=old", "-newkey", "rsa:1024", "-keyout", keyFile, "-out", certFile)
        let certificate = try String(contentsOfFile: certFile, encoding: .utf8)
        let reader = try writeConfig("old.cfg", key: nil, certificates: [certificate])

        let content = Interop.bytes(50_000, seed: 7)
        let sha = Interop.sha512(content)
        let stored = try TestHTTP.request("POST", server.shacacheURL, headers: ["Content-Type: application/octet-stream"], body: Array(content))
        XCTAssertEqual(stored.status, 201)
        XCTAssertEqual(stored.text, sha)

        let info = #"{"sha512": "\#(sha)", "url": "http://old.example/a.tar.gz"}"#
        let infoFile = try write("info", Data(info.utf8))
        let signatureFile = directory.appendingPathComponent("signature").path
        try openssl("dgst", "-sha1", "-sign", keyFile, "-out", signatureFile, infoFile)
        // Python 2's base64.encodestring: 76-character lines, each ending with "\n".
        let signature = try Data(contentsOf: URL(fileURLWithPath: signatureFile)).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]) + "\n"
        XCTAssertEqual(signature.split(separator: "\n").map(\.count), [76, 76, 20])
        let key = "file-urlmd5:" + Interop.md5("http://old.example/a.tar.gz")
        let put = try TestHTTP.request("PUT", server.shadirURL + "/" + key, headers: ["Content-Type: application/json"], body: Array(JSONValue.array([.string(info), .string(signature)]).pythonJSON.utf8))
        XCTAssertEqual(put.status, 201, put.text)
        XCTAssertEqual(try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/" + key).body).map(\.signature), [signature])

        // Our client.
        let download = try netcache("download", "-c", reader, "--url", "http://old.example/a.tar.gz")
        XCTAssertEqual(download.status, 0, download.stderr)
        XCTAssertEqual(download.stdout, content)
        let list = try netcache("download", "-c", reader, "--key", key, "--list")
        XCTAssertEqual(list.output, "[\n  {\n    \"sha512\": \"\(sha)\",\n    \"url\": \"http://old.example/a.tar.gz\"\n  }\n]\n")
        // The Python client.
        XCTAssertEqual(try python("select_entries.py", reader, key).output, info + "\n")
        XCTAssertEqual(try python("cmd_download.py", "-c", reader, "--key", key).stdout, content)
        XCTAssertEqual(try python("cmd_download.py", "-c", reader, "--key", key, "--list").output, list.output)

        // Both really verify: an unrelated certificate trusts nothing.
        let mallory = try ourKey("mallory")
        let unrelated = try writeConfig("mallory.cfg", key: nil, certificates: [mallory.certificate])
        let ours = try netcache("download", "-c", unrelated, "--key", key)
        XCTAssertNotEqual(ours.status, 0)
        XCTAssertEqual(ours.stderr, "netcache: error: no trusted entry under \(key)\n")
        XCTAssertEqual(try python("select_entries.py", unrelated, key).output, "")
    }

    // MARK: 6. Connection: close, and the existence check

    func testPythonUploadsThroughConnectionCloseAndSkipsKnownContent() throws {
        try Interop.requireVenv()
        // What the Python client relies on: our answers to "Connection: close" say so.
        let missing = try TestHTTP.request("GET", server.shacacheURL + "/" + String(repeating: "0", count: 128), headers: ["Connection: close"])
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.headers["connection"]?.lowercased(), "close")

        let grace = try ourKey("grace")
        let config = try writeConfig("grace.cfg", key: grace.key, certificates: [grace.certificate])
        let content = Interop.bytes(3_000_000, seed: 8)
        let sha = Interop.sha512(content)
        let file = try write("g.bin", content)

        // First upload: existence check (404), then POST; the client reads the 201 body
        // (the SHA-512) after closing its connection object, and compares it.
        let first = try python("upload.py", config, file)
        XCTAssertEqual(first.output, sha + "\n")
        XCTAssertEqual(Interop.requests(first.stderr), ["GET /shacache/\(sha)", "POST /shacache"])
        XCTAssertEqual(server.storedBlobs().count, 1)

        // Second upload of the same content, now indexed: the GET finds it, no POST.
        let second = try python("upload.py", config, file, "grace:key", #"{"url": "http://example.com/g"}"#)
        XCTAssertEqual(second.output, sha + "\n")
        XCTAssertEqual(Interop.requests(second.stderr), ["GET /shacache/\(sha)", "PUT /shadir/grace:key"])
        XCTAssertEqual(server.storedBlobs().count, 1)

        // The same entry again: still one entry.
        let third = try python("upload.py", config, file, "grace:key", #"{"url": "http://example.com/g"}"#)
        XCTAssertEqual(Interop.requests(third.stderr), ["GET /shacache/\(sha)", "PUT /shadir/grace:key"])
        XCTAssertEqual(try ShadirListing.parse(try TestHTTP.request("GET", server.shadirURL + "/grace:key").body).count, 1)
        XCTAssertEqual(try python("download.py", config, sha).stdout, content)
    }

    // MARK: - Helpers

    private struct Signer {
        let key: String
        let certificate: String
    }

    /// `netcache keygen`.
    private func ourKey(_ name: String, bits: Int? = nil) throws -> Signer {
        let key = directory.appendingPathComponent("\(name).key").path
        let certificate = directory.appendingPathComponent("\(name).crt").path
        let result = try netcache(arguments: ["keygen", key, name, "--cert-file", certificate] + (bits.map { ["--bits", String($0)] } ?? []))
        guard result.status == 0 else { throw TestFailure("netcache keygen: \(result.stderr)") }
        return Signer(key: key, certificate: try String(contentsOfFile: certificate, encoding: .utf8))
    }

    /// Upstream's `generate-signature-key` (slapos.signature).
    private func upstreamKey(_ name: String) throws -> Signer {
        let key = directory.appendingPathComponent("\(name).key").path
        let certificate = directory.appendingPathComponent("\(name).crt").path
        try python(nil, ["-c", "import sys; from slapos.signature import run; run(sys.argv[1:])", key, name, "--cert-file", certificate])
        return Signer(key: key, certificate: try String(contentsOfFile: certificate, encoding: .utf8))
    }

    /// A slapos.cfg whose `[networkcache]` points at our server; the certificates are
    /// written as indented continuation lines, as in deployed slapos.cfg files.
    private func writeConfig(_ name: String, key: String?, certificates: [String]) throws -> String {
        var text = """
            [networkcache]
            download-cache-url = \(server.shacacheURL)
            upload-cache-url = \(server.shacacheURL)
            download-dir-url = \(server.shadirURL)
            upload-dir-url = \(server.shadirURL)

            """
        if let key { text += "signature-private-key-file = \(key)\n" }
        if !certificates.isEmpty {
            text += "signature-certificate-list =\n"
            for line in certificates.joined().split(separator: "\n") { text += "  \(line)\n" }
        }
        return try write(name, Data(text.utf8))
    }

    private func write(_ name: String, _ data: Data) throws -> String {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    @discardableResult
    private func python(_ script: String, _ arguments: String...) throws -> CommandResult {
        try python(script, arguments)
    }

    /// Runs a Tests/interop script (or `python ARGS` when `script` is nil); unless
    /// `check` is false, a non-zero exit throws with the script's stderr.
    @discardableResult
    private func python(_ script: String?, _ arguments: [String], check: Bool = true) throws -> CommandResult {
        let path = script.map { [Binaries.packageRoot.appendingPathComponent("Tests/interop/\($0)").path] } ?? []
        let result = try NetcacheTests.run(Interop.python, path + arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"], directory: directory)
        if check && result.status != 0 {
            throw TestFailure("python \(script ?? "") \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// For each criteria set: our `download --list` and Python's `networkcache-download
    /// --list` agree on status and stdout byte for byte; Python lists `count` entries.
    private func assertListsMatch(config: String, key: String, cases: [([String], Int)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (criteria, count) in cases {
            let label = criteria.isEmpty ? "(no criteria)" : criteria.joined(separator: " ")
            let upstream = try python("cmd_download.py", ["-c", config, "--key", key, "--list"] + criteria, check: false)
            let ours = try netcache(arguments: ["download", "-c", config, "--key", key, "--list"] + criteria)
            if count == 0 {
                XCTAssertEqual(upstream.status, 1, "\(label): Python: \(upstream.stderr)", file: file, line: line)
                XCTAssertTrue(upstream.stderr.hasSuffix("No result found with given criteria.\n"), "\(label): Python: \(upstream.stderr)", file: file, line: line)
                XCTAssertNotEqual(ours.status, 0, "\(label): we listed \(ours.output)", file: file, line: line)
                XCTAssertTrue(ours.stderr.hasPrefix("netcache: error: ") && ours.stderr.contains(" under \(key) "), "\(label): \(ours.stderr)", file: file, line: line)
            } else {
                XCTAssertEqual(upstream.status, 0, "\(label): Python: \(upstream.stderr)", file: file, line: line)
                // One "  {" line per entry (the output may hold NaN, which is not JSON).
                let listed = upstream.output.split(separator: "\n").filter { $0 == "  {" }.count
                XCTAssertEqual(listed, count, "\(label): Python listed \(upstream.output)", file: file, line: line)
                XCTAssertEqual(ours.status, 0, "\(label): \(ours.stderr)", file: file, line: line)
            }
            XCTAssertEqual(ours.output, upstream.output, "\(label): --list differs from Python's", file: file, line: line)
        }
    }
}

enum Interop {
    static var python: URL { Binaries.packageRoot.appendingPathComponent(".venv/bin/python") }

    /// Fails (never skips) without the venv: these tests are the compatibility contract.
    /// Called first in each test: a throw in setUp is reported as a skip.
    static func requireVenv() throws {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw TestFailure("\(python.path) is missing: run scripts/interop-venv.sh (from the package root) to create the Python interop venv")
        }
    }

    static func sha512(_ data: Data) -> String {
        let digest = StreamingDigest.sha512()
        digest.update(data)
        return digest.finalize()
    }

    static func md5(_ text: String) -> String {
        let digest = StreamingDigest.md5()
        digest.update(Data(text.utf8))
        return digest.finalize()
    }

    /// Deterministic pseudo-random bytes (xorshift64*).
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            bytes[index] = UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
        }
        return Data(bytes)
    }

    /// The "http: METHOD PATH" lines upload.py reports, without the prefix.
    static func requests(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("http: ") }.map { String($0.dropFirst(6)) }
    }
}
