import Foundation
import NetcacheProtocol
import Synchronization

@testable import NetcacheClient

/// Many clients at once against one server, each on a thread of its own so that their
/// requests are really in flight together (not a pool bounded by the cores): uploads of
/// new blobs, whole and ranged downloads of blobs the server holds or can fetch (and of
/// those uploaded meanwhile), shadir PUTs and GETs. It keeps what each answer was, and
/// names each answer no server may give, faults or not:
///
/// - a status other than the request's success or a 5xx (a 404 for a blob it holds, a
///   404 for a key with an entry answered 201, any 4xx);
/// - a 201 whose body is not the SHA-512 of what was sent;
/// - a 200 or 206 without a `Content-Length`, or whose body is not the blob, or not that
///   part of it: a client that got the whole `Content-Length` must have the blob its name
///   promises;
/// - a listing that is not a JSON list of entries that were PUT;
/// - an answer later than `patience`: the server hung on it.
///
/// A transfer cut short (an error on the client's side) is what a server does when its
/// I/O fails after the status line went out, and is counted, not judged.
final class ConcurrentTraffic: Sendable {
    /// Every answer of one kind of request, by status; 0 counts transfers cut short.
    struct Statuses: Sendable {
        var counts: [Int: Int] = [:]
        var total: Int { counts.values.reduce(0, +) }
        func count(_ matching: (Int) -> Bool) -> Int { counts.filter { matching($0.key) }.map(\.value).reduce(0, +) }
    }

    struct Report: Sendable {
        var statuses: [String: Statuses] = [:]
        /// Blobs whose upload was answered 201, and their bytes.
        var created: [String: [UInt8]] = [:]
        /// Entries whose PUT was answered 201, by key.
        var filed: [String: Set<ShadirEntry>] = [:]
        var violations: [String] = []
        /// The most requests in flight at one time.
        var peakInFlight = 0
        /// Requests not answered when the run gave up on them.
        var unfinished = false

        /// Answers with a status in `range`, of every kind.
        func answers(_ range: ClosedRange<Int>) -> Int { statuses.values.map { $0.count { range.contains($0) } }.reduce(0, +) }
        var summary: String {
            statuses.sorted { $0.key < $1.key }.map { kind, statuses in
                "\(kind): " + statuses.counts.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "cut" : String($0.key)) ×\($0.value)" }.joined(separator: ", ")
            }.joined(separator: "; ") + "; peak in flight \(peakInFlight)"
        }
    }

    static let keys = (0..<4).map { "faults:key\($0)" }
    /// Far above any answer of a working server on loopback.
    static let patience: TimeInterval = 15

    private let url: String
    /// Blobs to download: the server holds them, or its upstream does.
    private let blobs: Mutex<[(sha512: String, bytes: [UInt8])]>
    /// Every entry PUT, or listed by upstream, by key.
    private let attempted: Mutex<[String: Set<ShadirEntry>]>
    private let report = Mutex(Report())
    private let inFlight = Mutex(0)

    init(url: String, blobs: [String: [UInt8]], upstreamEntries: [String: Set<ShadirEntry>] = [:]) {
        self.url = url
        self.blobs = Mutex(blobs.map { ($0.key, $0.value) })
        attempted = Mutex(upstreamEntries)
    }

    /// `clients` threads released together, each making `requests` requests; waits at
    /// most `deadline` for them all.
    func run(clients: Int, requests: Int, deadline: TimeInterval = 120) -> Report {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for client in 0..<clients {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                start.wait()
                for number in 0..<requests {
                    self.request(client: client, number: number)
                }
            }
        }
        for _ in 0..<clients { start.signal() }
        let finished = done.wait(timeout: .now() + deadline) == .success
        return report.withLock { report in
            report.unfinished = !finished
            return report
        }
    }

    private func request(client: Int, number: Int) {
        switch (client + number) % 5 {
        case 0, 1: upload()
        case 2: download(ranged: false)
        case 3: download(ranged: true)
        default: file(in: Self.keys[(client + number) % Self.keys.count], client: client, number: number)
        }
    }

    private func upload() {
        let bytes = Self.randomBytes(Int.random(in: 1 << 10...384 << 10))
        let sha512 = StreamingDigest.sha512Hex(of: bytes)
        guard let answer = exchange("upload", "POST", url + "/shacache", body: bytes) else { return }
        switch answer.status {
        case 201:
            let named = String(decoding: answer.body, as: UTF8.self)
            guard named == sha512 else { return violation("upload of \(sha512.prefix(16))… answered 201 naming \(named.prefix(140))") }
            blobs.withLock { $0.append((sha512, bytes)) }
            report.withLock { $0.created[sha512] = bytes }
        case 500...599: break
        default: violation("upload answered \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
    }

    private func download(ranged: Bool) {
        guard let blob = blobs.withLock({ $0.randomElement() }) else { return }
        let name = "\(blob.sha512.prefix(16))… (\(blob.bytes.count) bytes)"
        let range = ranged ? Self.someRange(of: blob.bytes.count) : nil
        let headers = range.map { ["Range: bytes=\($0.lowerBound)-\($0.upperBound - 1)"] } ?? []
        guard let answer = exchange(ranged ? "range" : "download", "GET", url + "/shacache/" + blob.sha512, headers: headers) else { return }
        if [200, 206].contains(answer.status), answer.headers["content-length"] == nil {
            return violation("GET \(name) answered \(answer.status) without a Content-Length, headers \(answer.headers)")
        }
        switch (answer.status, range) {
        case (200, nil):
            if StreamingDigest.sha512Hex(of: answer.body) != blob.sha512 {
                violation("GET \(name) answered 200 with \(answer.body.count) bytes that are not the blob, headers \(answer.headers)")
            }
        case (206, let range?):
            if answer.body != Array(blob.bytes[range]) {
                violation("GET \(name) bytes \(range) answered 206 with \(answer.body.count) bytes that are not those, headers \(answer.headers)")
            }
        case (500...599, _): break
        default: violation("GET \(name)\(range.map { " bytes \($0)" } ?? "") answered \(answer.status)")
        }
    }

    private func file(in key: String, client: Int, number: Int) {
        let sha512 = blobs.withLock { $0.randomElement()?.sha512 } ?? String(repeating: "ab", count: 64)
        let info = "{\"sha512\": \"\(sha512)\", \"client\": \(client), \"n\": \(number)}"
        let entry = ShadirEntry(info: info, signature: "")
        _ = attempted.withLock { $0[key, default: []].insert(entry) }
        let body = Array(JSONValue.array([.string(info), .string("")]).pythonJSON.utf8)
        if let answer = exchange("put", "PUT", url + "/shadir/" + key, body: body) {
            switch answer.status {
            case 201: report.withLock { _ = $0.filed[key, default: []].insert(entry) }
            case 500...599: break
            default: violation("PUT \(key) answered \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
            }
        }
        let filedBefore = report.withLock { !($0.filed[key] ?? []).isEmpty }
        guard let listing = exchange("get", "GET", url + "/shadir/" + key) else { return }
        switch listing.status {
        case 200:
            guard let entries = try? ShadirListing.parse(listing.body) else {
                return violation("GET \(key) answered 200 with a body that is no listing: \(String(decoding: listing.body.prefix(200), as: UTF8.self))")
            }
            let known = attempted.withLock { $0[key] ?? [] }
            for entry in entries where !known.contains(entry) {
                violation("GET \(key) listed an entry nobody PUT: \(entry.info.prefix(200))")
            }
        case 404 where !filedBefore: break
        case 500...599: break
        default: violation("GET \(key) answered \(listing.status)\(filedBefore ? " after a PUT answered 201" : "")")
        }
    }

    /// One request, timed and counted; `nil` when the transfer was cut short.
    private func exchange(
        _ kind: String, _ method: String, _ url: String, headers: [String] = [], body: [UInt8]? = nil
    ) -> TestResponse? {
        let peak = inFlight.withLock { count in
            count += 1
            return count
        }
        report.withLock { $0.peakInFlight = max($0.peakInFlight, peak) }
        defer { inFlight.withLock { $0 -= 1 } }
        var request = HTTPRequest(method: method, url: url, headers: headers, body: body.map { .bytes($0) })
        // A stall ends the transfer a little after `patience`, which then counts as a hang.
        request.timeouts = TransferTimeouts(connect: Int(Self.patience), lowSpeedLimit: 1, lowSpeedTime: Int(Self.patience) + 5)
        let began = Date()
        var received: [UInt8] = []
        let head = try? CurlEasy().perform(request) { _, chunk in
            received.append(contentsOf: chunk)
            return true
        }
        let elapsed = Date().timeIntervalSince(began)
        if elapsed > Self.patience { violation("\(method) \(url) took \(Int(elapsed)) s") }
        let status = head?.status ?? 0
        report.withLock { $0.statuses[kind, default: Statuses()].counts[status, default: 0] += 1 }
        return head.map { TestResponse(status: $0.status, headers: $0.headers, body: received) }
    }

    private func violation(_ message: String) {
        report.withLock { $0.violations.append(message) }
    }

    /// A part of a blob that is neither all of it nor empty, when it can be.
    private static func someRange(of size: Int) -> Range<Int> {
        guard size > 2 else { return 0..<size }
        let start = Int.random(in: 1..<size - 1)
        return start..<Int.random(in: start + 1...size - 1)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }
}
