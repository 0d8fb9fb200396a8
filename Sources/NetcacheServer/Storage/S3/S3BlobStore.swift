import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NetcacheProtocol
import _NIOFileSystem

/// Blobs in an S3 bucket, shared by every server of a scaled-out cache: the object
/// `PREFIX/<sha512>` holds the blob with that SHA-512.
///
/// An upload is staged and verified on this server first and only then sent, in one PUT or
/// as a multipart upload, both of which S3 makes visible at once when complete: a server
/// killed mid-upload leaves at most an unfinished multipart upload, invisible under any
/// name, which `S3UploadSweep` aborts later.
public struct S3BlobStore: BlobStorage {
    public let staging: Staging
    let client: S3Client

    /// Up to this size a blob goes in one PUT; larger ones in parts.
    static let multipartThreshold = 64 << 20
    /// S3 allows 10,000 parts of at least 5 MiB.
    static let minimumPartSize = 16 << 20
    static let maximumParts = 10_000

    /// Up to this size a blob's last use is renewed by one CopyObject onto itself; S3 refuses
    /// single copies above 5 GiB, so larger ones are copied onto themselves in parts of this
    /// size (UploadPartCopy). A setting for the tests, which lower it.
    var copyThreshold = 5 << 30
    /// How long a read waits for S3's answer, then for each next piece of the body: time the
    /// consumer takes (a slow client) does not count.
    var readStall = Duration.seconds(60)

    init(settings: S3Settings, http: HTTPClient, staging: Staging) {
        client = S3Client(settings: settings, http: http)
        self.staging = staging
    }

    /// Says at start-up when the bucket is missing or the credentials do not open it.
    func checkBucket() async throws {
        let location = client.settings.location
        let response: HTTPClientResponse
        do {
            response = try await client.http.execute(client.request(.HEAD, key: nil), timeout: S3Client.shortDeadline)
        } catch {
            throw StorageError("cannot reach the S3 endpoint \(client.settings.endpoint.absoluteString): \(error)")
        }
        switch response.status.code {
        case 200: return
        case 404: throw StorageError("\(location): no such bucket at \(client.settings.endpoint.absoluteString)")
        case 301, 400: throw StorageError("\(location): the bucket is not in region \(client.settings.region) (--s3-region), or not at \(client.settings.endpoint.absoluteString)")
        case 403: throw StorageError("\(location): access denied; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --s3-credentials-file)")
        case let status: throw StorageError("\(location): HEAD of the bucket answered HTTP \(status)")
        }
    }

    private func key(_ sha512: String) -> String { client.settings.location.key(for: sha512) }

    public func size(of sha512: String) async throws -> Int? {
        let response = try await client.http.execute(client.request(.HEAD, key: key(sha512)), timeout: S3Client.shortDeadline)
        switch response.status.code {
        case 200:
            guard let length = response.headers.first(name: "content-length").flatMap(Int.init) else {
                throw S3Error(status: 200, code: "no Content-Length", request: "HEAD \(key(sha512))")
            }
            return length
        case 404:
            return nil
        default:
            throw S3Error(status: Int(response.status.code), code: nil, request: "HEAD \(key(sha512))")
        }
    }

    public func lastUsed(_ sha512: String) async throws -> Date? {
        let response = try await client.http.execute(client.request(.HEAD, key: key(sha512)), timeout: S3Client.shortDeadline)
        guard response.status.code == 200, let modified = response.headers.first(name: "last-modified") else { return nil }
        return Self.httpDate.date(from: modified)
    }

    /// `Last-Modified`'s format (RFC 9110's IMF-fixdate).
    private static let httpDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter
    }()

    /// S3 keeps no access time: the object is copied onto itself, which renews its
    /// Last-Modified.
    public func touch(_ sha512: String) async throws {
        _ = try await renew(sha512)
    }

    /// Renews a stored blob's Last-Modified; whether it was stored.
    private func renew(_ sha512: String) async throws -> Bool {
        guard let size = try await size(of: sha512) else { return false }
        let key = key(sha512)
        guard size > copyThreshold else {
            let request = client.request(.PUT, key: key, headers: [("x-amz-copy-source", copySource(key)), ("x-amz-metadata-directive", "REPLACE")])
            let (response, answer) = try await client.send(request, named: "CopyObject \(key)", deadline: S3Client.transferDeadline, expecting: [200, 404])
            // S3 may fail a copy after its 200 has started: the error is in the body.
            if response.status.code == 200, let code = try? S3XML(answer).values["Code"] { throw S3Error(status: 200, code: code, request: "CopyObject \(key)") }
            return response.status.code == 200
        }
        return try await inParts(key, size: size, partSize: max(copyThreshold, Self.minimumPartSize, (size + Self.maximumParts - 1) / Self.maximumParts)) { number, range, uploadID in
            let request = client.request(
                .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                headers: [("x-amz-copy-source", copySource(key)), ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
            let (response, answer) = try await client.send(request, named: "UploadPartCopy \(number) of \(key)", deadline: S3Client.transferDeadline, expecting: [200, 404])
            guard response.status.code == 200 else { return nil }
            guard let tag = try S3XML(answer).values["ETag"] else {
                throw S3Error(status: 200, code: (try? S3XML(answer))?.values["Code"] ?? "no ETag", request: "UploadPartCopy \(number) of \(key)")
            }
            return tag
        }
    }

    private func copySource(_ key: String) -> String {
        "/" + client.settings.location.bucket + "/" + SignatureV4.encode(key, keepSlashes: true)
    }

    public func keep(_ blob: StagedBlob, as sha512: String) async throws {
        defer { blob.discard() }
        // Already stored: its last use is renewed, and the new copy dropped.
        guard try await !renew(sha512) else { return }
        guard let path = blob.path else { throw StorageError("the staging file is gone") }
        let size = blob.size
        try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { file in
            if size <= Self.multipartThreshold {
                try await put(key(sha512), from: file, range: 0..<size)
            } else {
                try await putInParts(key(sha512), from: file, size: size)
            }
        }
    }

    private func put(_ key: String, from file: ReadFileHandle, range: Range<Int>) async throws {
        var request = client.request(.PUT, key: key, headers: [("content-length", String(range.count))])
        request.body = .stream(Self.chunks(of: file, range), length: .known(Int64(range.count)))
        _ = try await client.send(request, named: "PUT \(key)", deadline: S3Client.transferDeadline)
    }

    private func putInParts(_ key: String, from file: ReadFileHandle, size: Int) async throws {
        let partSize = max(Self.minimumPartSize, (size + Self.maximumParts - 1) / Self.maximumParts)
        _ = try await inParts(key, size: size, partSize: partSize) { number, range, uploadID in
            var request = client.request(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: [("content-length", String(range.count))])
            request.body = .stream(Self.chunks(of: file, range), length: .known(Int64(range.count)))
            let (response, _) = try await client.send(request, named: "UploadPart \(number) of \(key)", deadline: S3Client.transferDeadline)
            guard let tag = response.headers.first(name: "etag") else {
                throw S3Error(status: 200, code: "no ETag", request: "UploadPart \(number) of \(key)")
            }
            return tag
        }
    }

    /// A multipart upload of `key`, `size` bytes in parts of `partSize`, each sent by `part`,
    /// which answers its ETag, or `nil` to give up (the upload is then aborted). Whether it
    /// was completed; a failure aborts it too.
    private func inParts(_ key: String, size: Int, partSize: Int, _ part: (_ number: Int, _ range: Range<Int>, _ uploadID: String) async throws -> String?) async throws -> Bool {
        let (_, created) = try await client.send(client.request(.POST, key: key, query: [("uploads", "")]), named: "CreateMultipartUpload \(key)")
        guard let uploadID = try S3XML(created).values["UploadId"] else {
            throw S3Error(status: 200, code: "no UploadId", request: "CreateMultipartUpload \(key)")
        }
        do {
            var parts: [(Int, String)] = []
            var offset = 0
            while offset < size {
                let range = offset..<min(size, offset + partSize)
                let number = parts.count + 1
                guard let tag = try await part(number, range, uploadID) else {
                    try await abort(key, uploadID: uploadID)
                    return false
                }
                parts.append((number, tag))
                offset = range.upperBound
            }
            let document = "<CompleteMultipartUpload>" + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\(Self.escape($0.1))</ETag></Part>" }.joined() + "</CompleteMultipartUpload>"
            let body = Data(document.utf8)
            var request = client.request(.POST, key: key, query: [("uploadId", uploadID)], headers: [("content-length", String(body.count))], payloadHash: SignatureV4.payloadHash(of: body))
            request.body = .bytes(ByteBuffer(data: body))
            let (_, answer) = try await client.send(request, named: "CompleteMultipartUpload \(key)", deadline: S3Client.transferDeadline)
            // S3 may fail a completion after its 200 has started: the error is in the body.
            if let code = try? S3XML(answer).values["Code"] { throw S3Error(status: 200, code: code, request: "CompleteMultipartUpload \(key)") }
            return true
        } catch {
            try? await abort(key, uploadID: uploadID)
            throw error
        }
    }

    func abort(_ key: String, uploadID: String) async throws {
        _ = try await client.send(client.request(.DELETE, key: key, query: [("uploadId", uploadID)]), named: "AbortMultipartUpload \(key)", expecting: [200, 204, 404])
    }

    public func read(_ sha512: String, range: Range<Int>, to consume: (ByteBuffer) async throws -> Void) async throws {
        let name = "GET \(key(sha512))"
        let request = client.request(.GET, key: key(sha512), headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        let (http, stall) = (client.http, readStall)
        let stalled = "\(name): S3 sent nothing for \(stall.components.seconds) s"
        let response = try await withDeadline(stall, failing: stalled) { try await http.execute(request, deadline: .distantFuture) }
        guard [200, 206].contains(response.status.code) else {
            let body = try await withDeadline(stall, failing: stalled) { try await response.body.collect(upTo: 1 << 20) }
            throw client.failure(response.status.code, Data(buffer: body), name)
        }
        let body = S3BodyReader(response.body)
        var received = 0
        while let chunk = try await withDeadline(stall, failing: stalled, { try await body.next() }) {
            received += chunk.readableBytes
            try await consume(chunk)
        }
        guard received == range.count else { throw StorageError("\(name): \(received) bytes of \(range.count)") }
    }

    public func remove(_ sha512: String) async throws {
        _ = try await client.send(client.request(.DELETE, key: key(sha512)), named: "DELETE \(key(sha512))", expecting: [200, 204, 404])
    }

    public func forEachAddress(_ body: (String) async throws -> Void) async throws {
        try await forEachObject { sha512, _ in try await body(sha512) }
    }

    /// From the listing's own sizes: no request per object.
    public func totals() async throws -> (blobs: Int, bytes: Int) {
        var totals = (blobs: 0, bytes: 0)
        try await forEachObject { _, size in
            totals.blobs += 1
            totals.bytes += size
        }
        return totals
    }

    private func forEachObject(_ body: (_ sha512: String, _ size: Int) async throws -> Void) async throws {
        let prefix = client.settings.location.prefix
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, data) = try await client.send(client.request(.GET, key: nil, query: query), named: "ListObjectsV2 \(prefix)")
            let page = try S3XML(data, record: "Contents")
            for object in page.records {
                guard let key = object["Key"], key.hasPrefix(prefix) else { continue }
                let name = key.dropFirst(prefix.count)
                if isSHA512Hex(name) { try await body(String(name), object["Size"].flatMap(Int.init) ?? 0) }
            }
            token = page.values["IsTruncated"] == "true" ? page.values["NextContinuationToken"] : nil
        } while token != nil
    }

    public func checkHealth() async throws {
        try await checkBucket()
        guard try await freeSpace.admitsWithoutBlocking(0) else { throw StorageError("less than --min-free-space left for staging on \(freeSpace.directory)") }
    }

    public func withLocalFile<T>(_ sha512: String, _ body: (String) async throws -> T) async throws -> T {
        let copy = try staging.begin()
        defer { copy.discard() }
        guard let size = try await size(of: sha512) else { throw StorageError("blob \(sha512.prefix(16))… is not stored") }
        try await read(sha512, range: 0..<size) { chunk in try await staging.append(chunk, to: copy) }
        _ = try staging.seal(copy, expected: sha512)
        guard let path = copy.path else { throw StorageError("the staging file is gone") }
        return try await body(path)
    }

    private static func chunks(of file: ReadFileHandle, _ range: Range<Int>) -> FileChunks {
        file.readChunks(in: Int64(range.lowerBound)..<Int64(range.upperBound), chunkLength: .kibibytes(512))
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
