import Foundation
import NetcacheProtocol
import XCTest

/// `serve --upstream-cache --upstream-dir`: two real servers, one the upstream of the other.
final class MirrorTests: XCTestCase {
    var upstream: ServerProcess!
    var mirror: ServerProcess!

    override func tearDown() {
        mirror?.stop()
        upstream?.stop()
    }

    private func startMirror(of upstreamURL: String? = nil, _ arguments: [String] = [], home: URL? = nil) throws {
        let base = upstreamURL ?? upstream.url
        mirror = try ServerProcess(arguments: ["--upstream-cache", base + "/shacache", "--upstream-dir", base + "/shadir"] + arguments, dataDirectory: home)
    }

    private func blob(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private func upload(_ bytes: [UInt8], to server: ServerProcess) throws -> String {
        let response = try TestHTTP.request("POST", server.shacacheURL, body: bytes)
        guard response.status == 201 else { throw TestFailure("upload: \(response.status)") }
        return response.text
    }

    private func entry(_ sha512: String, _ n: Int) -> [UInt8] {
        Array(JSONValue.array([.string("{\"sha512\": \"\(sha512)\", \"n\": \(n)}"), .string("")]).pythonJSON.utf8)
    }

    /// Upstream behind a proxy that holds nothing and keeps the line of each request the
    /// mirror makes.
    private func countedUpstream() throws -> GatedProxy {
        upstream = try ServerProcess()
        return try GatedProxy.recording(upstream.url)
    }

    private func asked(_ proxy: GatedProxy, _ path: String) -> Int {
        proxy.requests.filter { $0.hasPrefix("GET " + path + " ") }.count
    }

    /// What the checks made "meanwhile" assume: they came before `seconds` had passed.
    private func assertWithin(_ seconds: TimeInterval, of start: Date, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThan(Date().timeIntervalSince(start), seconds, "the checks meant for the first \(seconds) s came later", file: file, line: line)
    }

    func testBlobsAndEntriesFlowThroughAndAreServedOnceUpstreamStops() throws {
        upstream = try ServerProcess()
        try startMirror(["--upstream-dir-ttl", "0"])
        let bytes = blob(3 << 20, seed: 1)
        let sha512 = try upload(bytes, to: upstream)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/mirror:key", body: entry(sha512, 1)).status, 201)

        let other = blob(2 << 20, seed: 5)
        let otherSHA = try upload(other, to: upstream)
        let head = try TestHTTP.request("HEAD", mirror.shacacheURL + "/" + otherSHA)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], String(other.count))
        try waitUntil { self.mirror.storedBlobs().contains("\(otherSHA.prefix(2))/\(otherSHA)") }

        let fetched = try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.headers["content-length"], String(bytes.count))
        XCTAssertTrue(fetched.body == bytes)
        XCTAssertEqual(Set(mirror.storedBlobs()), ["\(sha512.prefix(2))/\(sha512)", "\(otherSHA.prefix(2))/\(otherSHA)"])
        let upstreamListing = try TestHTTP.request("GET", upstream.shadirURL + "/mirror:key").text
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/mirror:key").text, upstreamListing)

        upstream.stop()
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).body == bytes)
        let stale = try TestHTTP.request("GET", mirror.shadirURL + "/mirror:key")
        XCTAssertEqual(stale.status, 200)
        XCTAssertEqual(stale.text, upstreamListing)
        let unknown = try TestHTTP.request("GET", mirror.shacacheURL + "/" + String(repeating: "ab", count: 64))
        XCTAssertEqual(unknown.status, 502)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/never:seen").status, 502)
    }

    /// Ten misses of one blob in flight at once, its transfer from upstream held until the
    /// other nine have joined it: upstream is asked once, and each client gets the whole blob.
    func testTenClientsAskingForOneMissingBlobCauseOneUpstreamRequest() throws {
        upstream = try ServerProcess()
        let bytes = blob(8 << 20, seed: 2)
        let sha512 = try upload(bytes, to: upstream)
        let proxy = try GatedProxy(upstream: upstream.url)
        try startMirror(of: proxy.url)
        let clients = try SimultaneousRequests(Array(repeating: .init(method: "GET", url: mirror.shacacheURL + "/" + sha512), count: 10))
        try clients.release()
        try waitUntil { try self.mirror.metric("netcache_upstream_shared_total") == 9 }
        let asked = { proxy.requests.filter { $0.contains(sha512) } }
        XCTAssertEqual(asked(), ["GET /shacache/\(sha512) HTTP/1.1"])
        proxy.open()

        let answers = try clients.answers()
        XCTAssertEqual(answers.map(\.status), Array(repeating: 200, count: 10))
        XCTAssertEqual(answers.filter { $0.body == bytes }.count, 10)
        XCTAssertEqual(asked().count, 1)
        XCTAssertEqual(try mirror.metric("netcache_upstream_shared_total"), 9)
        XCTAssertEqual(mirror.storedBlobs(), ["\(sha512.prefix(2))/\(sha512)"])
        XCTAssertEqual(mirror.stagedFiles(), [])
    }

    func testATamperedBlobOnUpstreamIsNeitherKeptNorServedWhole() throws {
        upstream = try ServerProcess()
        try startMirror()
        let bytes = blob(1 << 20, seed: 3)
        let sha512 = try upload(bytes, to: upstream)
        var tampered = bytes
        tampered[tampered.count / 2] ^= 0xFF
        let stored = upstream.dataDirectory.appendingPathComponent("shacache/\(sha512.prefix(2))/\(sha512)")
        try Data(tampered).write(to: stored)

        XCTAssertThrowsError(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512), "a wrong blob was served whole")
        try waitUntil { self.mirror.log.contains("not kept: the bytes hash to") }
        XCTAssertEqual(mirror.storedBlobs(), [])
        XCTAssertEqual(mirror.stagedFiles(), [])
    }

    func testTheMirrorStartsWhileUpstreamIsDownAndServesWhatItHas() throws {
        try startMirror(of: try SilentListener.closedPortURL())
        let bytes = blob(1000, seed: 4)
        let sha512 = try upload(bytes, to: mirror)
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).body == bytes)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/local:key", body: entry(sha512, 1)).status, 201)
        let listing = try TestHTTP.request("GET", mirror.shadirURL + "/local:key")
        XCTAssertEqual(listing.status, 200)
        XCTAssertEqual(listing.body, Array("[".utf8) + entry(sha512, 1) + Array("]".utf8))
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + String(repeating: "cd", count: 64)).status, 502)
    }

    /// A blob or key upstream did not have is not asked for again for
    /// --upstream-negative-ttl seconds, even once upstream has it; then it is, and served.
    func testWhatUpstreamLackedIsNotAskedForAgainUntilTheNegativeTTLEnds() throws {
        let proxy = try countedUpstream()
        try startMirror(of: proxy.url, ["--upstream-negative-ttl", "5", "--upstream-dir-ttl", "0"])
        let bytes = blob(3000, seed: 30)
        let sha512 = StreamingDigest.sha512Hex(of: bytes)
        let start = Date()
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/late:key").status, 404)
        let remembered = Date()
        XCTAssertEqual(try upload(bytes, to: upstream), sha512)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/late:key", body: entry(sha512, 1)).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/late:key").status, 404)
        assertWithin(5, of: start)
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 1)
        XCTAssertEqual(asked(proxy, "/shadir/late:key"), 1)

        Thread.sleep(until: remembered.addingTimeInterval(5.5))
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).body == bytes)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/late:key").body, Array("[".utf8) + entry(sha512, 1) + Array("]".utf8))
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 2)
        XCTAssertEqual(asked(proxy, "/shadir/late:key"), 2)
    }

    /// An upstream listing is served for --upstream-dir-ttl seconds without asking upstream
    /// again; then upstream is asked, and what was filed there meanwhile is listed.
    func testAnUpstreamListingIsServedForTheDirectoryTTL() throws {
        let proxy = try countedUpstream()
        try startMirror(of: proxy.url, ["--upstream-dir-ttl", "5"])
        let sha512 = try upload(blob(1000, seed: 31), to: upstream)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/kept:key", body: entry(sha512, 1)).status, 201)
        let first = Array("[".utf8) + entry(sha512, 1) + Array("]".utf8)
        let start = Date()
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/kept:key").body, first)
        let kept = Date()
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/kept:key", body: entry(sha512, 2)).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/kept:key").body, first)
        assertWithin(5, of: start)
        XCTAssertEqual(asked(proxy, "/shadir/kept:key"), 1)

        Thread.sleep(until: kept.addingTimeInterval(5.5))
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/kept:key").body, Array("[".utf8) + entry(sha512, 1) + Array(", ".utf8) + entry(sha512, 2) + Array("]".utf8))
        XCTAssertEqual(asked(proxy, "/shadir/kept:key"), 2)
    }

    /// Once upstream could not be reached it is left alone for --upstream-backoff seconds:
    /// misses meanwhile answer 502 with no trip upstream, even once it is back; then the
    /// next miss asks again and gets the blob.
    func testAnUnreachableUpstreamIsLeftAloneForTheBackOffThenAskedAgain() throws {
        let proxy = try countedUpstream()
        proxy.cuts = true
        try startMirror(of: proxy.url, ["--upstream-backoff", "5"])
        let bytes = blob(2000, seed: 32)
        let sha512 = try upload(bytes, to: upstream)
        let start = Date()
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).status, 502)
        let down = Date()
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 1)
        proxy.cuts = false
        for _ in 0..<20 {
            XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).status, 502)
        }
        assertWithin(5, of: start)
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 1, "a miss during the back-off went upstream")

        Thread.sleep(until: down.addingTimeInterval(5.5))
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).body == bytes)
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 2)
        XCTAssertEqual(mirror.storedBlobs(), ["\(sha512.prefix(2))/\(sha512)"])
    }

    /// Local uploads show at once, even right after upstream said it has nothing; local
    /// and upstream entries are listed together, an entry both hold once.
    func testUploadsToTheMirrorShowAtOnceBesideUpstreamEntries() throws {
        upstream = try ServerProcess()
        try startMirror()
        let sha512 = String(repeating: "ef", count: 64)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/both:key").status, 404)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512).status, 404)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/both:key", body: entry(sha512, 1)).status, 201)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/both:key").body, Array("[".utf8) + entry(sha512, 1) + Array("]".utf8))

        let local = Array("uploaded to the mirror".utf8)
        let localSHA = try upload(local, to: mirror)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shacacheURL + "/" + localSHA).body, local)

        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/merged:key", body: entry(sha512, 1)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/merged:key", body: entry(sha512, 2)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/merged:key", body: entry(sha512, 2)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/merged:key", body: entry(sha512, 3)).status, 201)
        let merged = try ShadirListing.parse(try TestHTTP.request("GET", mirror.shadirURL + "/merged:key").body)
        XCTAssertEqual(merged.map(\.info), [2, 3, 1].map { "{\"sha512\": \"\(sha512)\", \"n\": \($0)}" })
    }

    func testEvictionKeepsTheSizeBoundAndNeverDropsALocalUpload() throws {
        let proxy = try countedUpstream()
        try startMirror(of: proxy.url, ["--cache-size", "3M"])
        let local = blob(2 << 20, seed: 9)
        let localSHA = try upload(local, to: mirror)
        let blobs = (0..<4).map { blob(1 << 20, seed: UInt8(10 + $0)) }
        let addresses = try blobs.map { try upload($0, to: upstream) }
        func get(_ index: Int) throws {
            XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + addresses[index]).body == blobs[index])
        }
        try get(0)
        try get(1)
        try get(2)
        try get(0)  // used again: 1 is now the least recently used
        try get(3)  // 4 MiB fetched, 3 MiB allowed: 1 goes
        try waitUntil { self.mirror.log.contains("mirror: evicted 1 blob(s), 1048576 bytes") }
        let stored = Set(mirror.storedBlobs().map { String($0.dropFirst(3)) })
        XCTAssertEqual(stored, Set([localSHA, addresses[0], addresses[2], addresses[3]]))

        try get(1)  // fetched again
        XCTAssertEqual(asked(proxy, "/shacache/" + addresses[1]), 2)
        XCTAssertEqual(asked(proxy, "/shacache/" + addresses[0]), 1)
        XCTAssertTrue(Set(mirror.storedBlobs().map { String($0.dropFirst(3)) }).contains(localSHA))
        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + localSHA).body == local)
    }

    func testUploadsToTheMirrorArePushedUpstreamAcrossAnOutage() throws {
        let upstreamHome = try TemporaryDirectory.make()
        upstream = try ServerProcess(dataDirectory: upstreamHome)
        let port = try RawSocket.port(of: upstream.url)
        try startMirror(["--upstream-push", "--upstream-backoff", "1"])
        let first = blob(5000, seed: 20)
        let firstSHA = try upload(first, to: mirror)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/pushed:key", body: entry(firstSHA, 1)).status, 201)
        try waitUntil { try TestHTTP.request("GET", self.upstream.shadirURL + "/pushed:key").status == 200 }
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + firstSHA).body == first)

        upstream.stop()
        let second = blob(6000, seed: 21)
        let secondSHA = try upload(second, to: mirror)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/pushed:key", body: entry(secondSHA, 2)).status, 201)
        upstream = try ServerProcess(arguments: ["--listen", "127.0.0.1:\(port)"], dataDirectory: upstreamHome)
        try waitUntil(timeout: 30) { try ShadirListing.parse(try TestHTTP.request("GET", self.upstream.shadirURL + "/pushed:key").body).count == 2 }
        XCTAssertTrue(try TestHTTP.request("GET", upstream.shacacheURL + "/" + secondSHA).body == second)
        XCTAssertEqual(try TestHTTP.request("GET", upstream.shadirURL + "/pushed:key").body, Array("[".utf8) + entry(firstSHA, 1) + Array(", ".utf8) + entry(secondSHA, 2) + Array("]".utf8))
    }

    /// Signatures are end to end: an entry altered on upstream reaches clients through the
    /// mirror as it is, and no client selects it.
    func testAnEntryTamperedOnUpstreamIsSelectedByNoClient() throws {
        upstream = try ServerProcess()
        try startMirror()
        let directory = try TemporaryDirectory.make()
        let key = directory.appendingPathComponent("signer.key").path
        let certificate = directory.appendingPathComponent("signer.crt").path
        XCTAssertEqual(try netcache("keygen", key, "signer", "--cert-file", certificate).status, 0)
        let trust = try String(contentsOfFile: certificate, encoding: .utf8).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        func config(_ server: ServerProcess) throws -> String {
            let path = directory.appendingPathComponent("\(UUID().uuidString).cfg").path
            try """
                [networkcache]
                download-cache-url = \(server.shacacheURL)
                upload-cache-url = \(server.shacacheURL)
                download-dir-url = \(server.shadirURL)
                upload-dir-url = \(server.shadirURL)
                signature-private-key-file = \(key)
                signature-certificate-list =
                \(trust)
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let payload = directory.appendingPathComponent("payload").path
        try Data("signed payload".utf8).write(to: URL(fileURLWithPath: payload))
        XCTAssertEqual(try netcache("upload", "-c", try config(upstream), "--file", payload, "--key", "signed:key", "kind=test").status, 0)
        XCTAssertEqual(try netcache("download", "-c", try config(mirror), "--key", "signed:key").output, "signed payload")

        // Altered on upstream, under another key the mirror has not seen: same signature,
        // other info.
        let listing = try ShadirListing.parse(try TestHTTP.request("GET", upstream.shadirURL + "/signed:key").body)[0]
        let altered = JSONValue.array([.string(listing.info.replacingOccurrences(of: "\"kind\": \"test\"", with: "\"kind\": \"evil\"")), .string(listing.signature)])
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/tampered:key", body: Array(altered.pythonJSON.utf8)).status, 201)
        let served = try TestHTTP.request("GET", mirror.shadirURL + "/tampered:key")
        XCTAssertEqual(served.status, 200)
        XCTAssertTrue(served.text.contains("evil"), "the mirror passes entries on as they are")
        let refused = try netcache("download", "-c", try config(mirror), "--key", "tampered:key")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.output, "")
    }

    /// A byte range of a blob the mirror lacks waits for the whole blob, verified, then is
    /// served from the store.
    func testAByteRangeOfAMissingBlobIsServedOnceTheBlobArrived() throws {
        let proxy = try countedUpstream()
        try startMirror(of: proxy.url)
        let bytes = blob(4 << 20, seed: 30)
        let sha512 = try upload(bytes, to: upstream)
        let range = try TestHTTP.request("GET", mirror.shacacheURL + "/" + sha512, headers: ["Range: bytes=1000-1999"])
        XCTAssertEqual(range.status, 206)
        XCTAssertEqual(range.headers["content-range"], "bytes 1000-1999/\(bytes.count)")
        XCTAssertEqual(range.body, Array(bytes[1000..<2000]))
        XCTAssertEqual(mirror.storedBlobs(), ["\(sha512.prefix(2))/\(sha512)"])
        XCTAssertEqual(asked(proxy, "/shacache/" + sha512), 1)
    }

    /// While upstream answers, the mirror lists what upstream lists now, beside its own
    /// uploads: an entry removed upstream goes from the mirror too. The copy it keeps of
    /// upstream's listing serves only while upstream is down, also after a restart.
    func testAnEntryWithdrawnUpstreamLeavesTheMirrorAndTheKeptCopyServesOnlyWhileUpstreamIsDown() throws {
        let upstreamHome = try TemporaryDirectory.make()
        upstream = try ServerProcess(dataDirectory: upstreamHome)
        let port = try RawSocket.port(of: upstream.url)
        let mirrorHome = try TemporaryDirectory.make()
        let options = ["--upstream-dir-ttl", "0", "--upstream-negative-ttl", "0", "--upstream-backoff", "1"]
        try startMirror(options, home: mirrorHome)
        let (withdrawn, staying, own) = (String(repeating: "a1", count: 64), String(repeating: "b2", count: 64), String(repeating: "c3", count: 64))
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/follow:key", body: entry(withdrawn, 1)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/follow:key", body: entry(staying, 2)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/gone:key", body: entry(withdrawn, 4)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", mirror.shadirURL + "/follow:key", body: entry(own, 3)).status, 201)
        func listing(_ key: String) throws -> (Int, String) {
            let response = try TestHTTP.request("GET", mirror.shadirURL + "/" + key)
            return (response.status, response.text)
        }
        func joined(_ entries: [[UInt8]]) -> String {
            "[" + entries.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ") + "]"
        }
        let before = joined([entry(own, 3), entry(withdrawn, 1), entry(staying, 2)])
        XCTAssertEqual(try listing("follow:key").1, before)
        XCTAssertEqual(try listing("gone:key").1, joined([entry(withdrawn, 4)]))

        // Upstream down, the mirror restarted: the kept copy serves.
        upstream.stop()
        mirror.stop()
        try startMirror(of: "http://127.0.0.1:\(port)", options, home: mirrorHome)
        XCTAssertEqual(try listing("follow:key").1, before)
        XCTAssertEqual(try listing("gone:key").1, joined([entry(withdrawn, 4)]))

        // Withdrawn upstream: the mirror follows as soon as upstream answers again.
        for key in ["follow:key", "gone:key"] {
            let removed = try netcache("admin", "remove-entry", "--data", upstream.dataDirectory.path, key, withdrawn)
            XCTAssertEqual(removed.status, 0, removed.stderr)
        }
        upstream = try ServerProcess(arguments: ["--listen", "127.0.0.1:\(port)"], dataDirectory: upstreamHome)
        let after = joined([entry(own, 3), entry(staying, 2)])
        try waitUntil { try listing("follow:key").1 == after }
        XCTAssertEqual(try listing("gone:key").0, 404)

        // And what it keeps now is the new listing.
        upstream.stop()
        XCTAssertEqual(try listing("follow:key").1, after)
        XCTAssertEqual(try listing("gone:key").0, 502)
        mirror.stop()
        try startMirror(of: "http://127.0.0.1:\(port)", options, home: mirrorHome)
        XCTAssertEqual(try listing("follow:key").1, after)
        XCTAssertEqual(try listing("gone:key").0, 502)
    }

    /// With `--trusted-certificates`, an upstream entry none of them signed is neither
    /// listed nor kept, as an upload of it here would be refused.
    func testWithTrustedCertificatesTheMirrorNeitherListsNorKeepsUnsignedUpstreamEntries() throws {
        upstream = try ServerProcess()
        let directory = try TemporaryDirectory.make()
        let key = directory.appendingPathComponent("signer.key").path
        let certificate = directory.appendingPathComponent("signer.crt").path
        XCTAssertEqual(try netcache("keygen", key, "signer", "--cert-file", certificate).status, 0)
        let configuration = directory.appendingPathComponent("upstream.cfg").path
        try """
            [networkcache]
            upload-cache-url = \(upstream.shacacheURL)
            upload-dir-url = \(upstream.shadirURL)
            signature-private-key-file = \(key)
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        let payload = directory.appendingPathComponent("payload").path
        try Data("signed payload".utf8).write(to: URL(fileURLWithPath: payload))
        XCTAssertEqual(try netcache("upload", "-c", configuration, "--file", payload, "--key", "mixed:key", "kind=test").status, 0)
        let signed = try TestHTTP.request("GET", upstream.shadirURL + "/mixed:key").text
        let forged = String(repeating: "d4", count: 64)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/mixed:key", body: entry(forged, 1)).status, 201)
        XCTAssertEqual(try TestHTTP.request("PUT", upstream.shadirURL + "/unsigned:key", body: entry(forged, 2)).status, 201)

        let mirrorHome = try TemporaryDirectory.make()
        let options = ["--trusted-certificates", certificate, "--upstream-dir-ttl", "0"]
        try startMirror(options, home: mirrorHome)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/mixed:key").text, signed)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/unsigned:key").status, 404)

        let upstreamURL = upstream.url
        upstream.stop()
        mirror.stop()
        try startMirror(of: upstreamURL, options, home: mirrorHome)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/mixed:key").text, signed)
        XCTAssertEqual(try TestHTTP.request("GET", mirror.shadirURL + "/unsigned:key").status, 502)
        mirror.stop()
        let keys = try netcache("admin", "keys", "--data", mirror.dataDirectory.path)
        XCTAssertEqual(keys.status, 0, keys.stderr)
        XCTAssertEqual(keys.output, "", "upstream's entries are not filed in the mirror's own shadir")
    }
}
