import Hummingbird
import NIOCore
import NetcacheProtocol

/// shacache: `POST /shacache` stores a blob and answers its SHA-512; `GET`/`HEAD
/// /shacache/<sha512>` serve it, with byte ranges.
struct ShacacheController {
    typealias Context = NetcacheRequestContext

    let store: any BlobStorage
    /// Where uploads and HEADs mark their blob, so that a sweep running beside the server
    /// keeps it (`SweepEpoch`).
    let marks: any EntryDirectory
    let maxUploadSize: Int
    /// Set on a mirror: what is not here is fetched from upstream.
    let mirror: BlobMirror?
    /// Set with `--upstream-push`: uploads are forwarded upstream.
    let push: UpstreamPush?

    func register(on router: some RouterMethods<Context>) {
        router.post("/shacache", use: upload)
        router.get("/shacache/:sha512", use: download)
        router.head("/shacache/:sha512", use: download)
    }

    /// Streams the body to a staging file while hashing it; only a complete upload within
    /// the size limit becomes a blob.
    @Sendable func upload(_ request: Request, context: Context) async throws -> Response {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maxUploadSize {
            throw HTTPError(.contentTooLarge, message: "upload larger than the limit of \(maxUploadSize) bytes")
        }
        // Refused before a byte is read when it says it will not fit, and as soon as it
        // does not when it streams.
        if let declared, try await !store.freeSpace.admitsWithoutBlocking(declared) { throw Self.noRoom(store.freeSpace) }
        let staged = try await MetadataCalls.run { try store.beginUpload() }
        var sinceCheck = 0
        let sha512: String
        do {
            for try await buffer in request.body {
                guard staged.size + buffer.readableBytes <= maxUploadSize else {
                    throw HTTPError(.contentTooLarge, message: "upload larger than the limit of \(maxUploadSize) bytes")
                }
                sinceCheck += buffer.readableBytes
                if declared == nil, sinceCheck >= Self.freeSpaceCheckInterval {
                    sinceCheck = 0
                    if try await !store.freeSpace.admitsWithoutBlocking(Self.freeSpaceCheckInterval) { throw Self.noRoom(store.freeSpace) }
                }
                try await store.append(buffer, to: staged)
                context.bytesReceived.add(buffer.readableBytes)
            }
            sha512 = try await store.commit(staged) { try await marks.markUse(of: [$0], storing: true) }
            try await mirror?.mirrored.uploaded(sha512)
            try await push?.blobStored(sha512)
        } catch let full as StorageFull {
            throw HTTPError(Self.insufficientStorage, message: full.description)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: sha512)))
    }

    /// What every answer about a blob says: it never changes.
    static func headers(of sha512: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.eTag] = "\"\(sha512)\""
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        return headers
    }

    private static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
    /// Streamed uploads look the free space up again after this many bytes.
    private static let freeSpaceCheckInterval = 4 << 20

    private static func noRoom(_ freeSpace: FreeSpace) -> HTTPError {
        HTTPError(insufficientStorage, message: "not enough space for the upload: \(freeSpace.minimum >> 20) MiB must stay free (--min-free-space)")
    }

    @Sendable func download(_ request: Request, context: Context) async throws -> Response {
        let address = try context.parameters.require("sha512")
        guard isSHA512Hex(address) else {
            throw HTTPError(.badRequest, message: "a shacache address is 128 hexadecimal characters")
        }
        let sha512 = address.lowercased()
        var headers = Self.headers(of: sha512)
        let preconditions = Preconditions(request.headers)
        // Range handling is defined for GET only (RFC 9110, 14.2).
        let ranged = request.method == .get && request.headers[.range] != nil && preconditions.rangeValidates(tag: sha512)
        // A HEAD that finds the blob marks it, then looks again: a client that finds it will
        // name it, and a sweep that removed it meanwhile leaves it absent on the second look.
        // What is not here is not marked: HEADs of made-up addresses write nothing.
        if request.method == .head, try await store.size(of: sha512) != nil { try await marks.markUse(of: [sha512], storing: false) }
        if try await store.size(of: sha512) == nil {
            guard let mirror else { throw HTTPError(.notFound) }
            let answer = try await mirror.answer(
                sha512, head: request.method == .head, range: ranged, headers: headers,
                eventLoop: context.channel.eventLoop)
            if let answer {
                if let refusal = preconditions.refusal(tag: sha512, method: request.method) { return Response(status: refusal, headers: headers) }
                return answer
            }
        }
        guard let size = try await store.size(of: sha512) else { throw HTTPError(.notFound) }
        mirror?.mirrored.used(sha512)
        if let refusal = preconditions.refusal(tag: sha512, method: request.method) { return Response(status: refusal, headers: headers) }

        var status = HTTPResponse.Status.ok
        var range = 0..<size
        switch ByteRange(header: ranged ? request.headers[.range] : nil, size: size) {
        case .none:
            break
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .satisfiable(let requested):
            status = .partialContent
            range = requested
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound - 1)/\(size)"
        }
        headers[.contentLength] = String(range.count)
        if request.method == .head || range.isEmpty {
            return Response(status: status, headers: headers)
        }
        return Response(status: status, headers: headers, body: BlobBody.make(sha512, from: store, range: range, eventLoop: context.channel.eventLoop))
    }
}
