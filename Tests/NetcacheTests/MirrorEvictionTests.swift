import Foundation
import Synchronization
import XCTest

/// `--cache-size` on S3, whose deletions take a round trip: an upload of a blob being
/// evicted is kept, never answered 201 and then deleted.
final class MirrorEvictionTests: XCTestCase {
    var upstream: ServerProcess?
    var mirror: ServerProcess?

    override func tearDown() {
        mirror?.stop()
        upstream?.stop()
    }

    private func blob(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    /// The store is reached through a proxy that holds each DELETE for 3 s: the upload of
    /// the victim arrives between its choice and its deletion.
    func testABlobUploadedWhileItIsBeingEvictedIsKept() throws {
        let bucket = try Engines.freshBucket()
        let proxy = try DelayingProxy(upstream: try Engines.s3Endpoint(), delayedPrefix: "DELETE ", seconds: 3)
        let upstream = try ServerProcess()
        self.upstream = upstream
        let victim = blob(1 << 20, seed: 50)
        let other = blob(1 << 20, seed: 51)
        let victimSHA = try TestHTTP.request("POST", upstream.shacacheURL, body: victim).text
        let otherSHA = try TestHTTP.request("POST", upstream.shacacheURL, body: other).text
        let mirror = try ServerProcess(
            arguments: [
                "--store", "s3://\(bucket)/blobs", "--s3-endpoint", proxy.url, "--upstream-cache", upstream.shacacheURL, "--upstream-dir", upstream.shadirURL,
                "--cache-size", "1M",
            ],
            environment: Engines.s3Credentials)
        self.mirror = mirror

        XCTAssertTrue(try TestHTTP.request("GET", mirror.shacacheURL + "/" + victimSHA).body == victim)
        // Over the size once the other is in: the victim, least recently used, is chosen
        // and its DELETE held. (The other's transfer ends after the eviction: its GET is
        // left to finish on its own.)
        let fetched = DispatchSemaphore(value: 0)
        let otherURL = mirror.shacacheURL + "/" + otherSHA
        Thread.detachNewThread {
            _ = try? TestHTTP.request("GET", otherURL)
            fetched.signal()
        }
        try waitUntil { proxy.held >= 1 }
        let uploaded = try TestHTTP.request("POST", mirror.shacacheURL, body: victim)
        XCTAssertEqual(uploaded.status, 201)
        XCTAssertEqual(uploaded.text, victimSHA)
        try waitUntil { mirror.log.contains("mirror: evicted 1 blob(s)") }
        XCTAssertEqual(fetched.wait(timeout: .now() + 30), .success)

        upstream.stop()
        let served = try TestHTTP.request("GET", mirror.shacacheURL + "/" + victimSHA)
        XCTAssertEqual(served.status, 200, "the upload answered 201 was deleted")
        XCTAssertTrue(served.body == victim)
        XCTAssertTrue(try Engines.objects(in: bucket).contains("blobs/" + victimSHA))
    }
}

/// A loopback TCP relay that holds, for a while, each client write starting with a given
/// prefix (a request line: `DELETE `), and passes everything else on at once.
private final class DelayingProxy: @unchecked Sendable {
    let url: String
    private let listener: Int32
    private let upstreamPort: Int
    private let prefix: [UInt8]
    private let seconds: TimeInterval
    private let heldCount = Mutex(0)

    init(upstream: String, delayedPrefix: String, seconds: TimeInterval) throws {
        upstreamPort = try RawSocket.port(of: upstream)
        prefix = Array(delayedPrefix.utf8)
        self.seconds = seconds
        (listener, url) = try RawSocket.listenOnLoopback()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Writes held so far.
    var held: Int { heldCount.withLock { $0 } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            guard let server = try? RawSocket.connectLoopback(port: upstreamPort) else {
                close(client)
                continue
            }
            // Both descriptors are closed by the second direction to end, never reused
            // while the other still writes.
            let ended = Mutex(0)
            let finish: @Sendable () -> Void = {
                guard ended.withLock({ count in
                    count += 1
                    return count == 2
                }) else { return }
                close(client)
                close(server)
            }
            Thread.detachNewThread { [self] in
                relay(from: client, to: server, holding: true)
                finish()
            }
            Thread.detachNewThread { [self] in
                relay(from: server, to: client, holding: false)
                finish()
            }
        }
    }

    /// Copies until either side closes, then shuts both down.
    private func relay(from source: Int32, to destination: Int32, holding: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(source, &buffer, buffer.count, 0)
            if count <= 0 { break }
            if holding, count >= prefix.count, Array(buffer[..<prefix.count]) == prefix {
                heldCount.withLock { $0 += 1 }
                Thread.sleep(forTimeInterval: seconds)
            }
            guard RawSocket.sendAll(Array(buffer[..<count]), on: destination) else { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }
}
