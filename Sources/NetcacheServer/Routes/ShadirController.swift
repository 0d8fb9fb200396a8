import Foundation
import Hummingbird
import NIOCore
import NetcacheProtocol

/// shadir: `PUT /shadir/<key>` files a signed entry under a key; `GET /shadir/<key>` lists
/// the key's entries in insertion order. Keys travel raw in the path (`:` and `=` included).
struct ShadirController {
    typealias Context = NetcacheRequestContext

    /// Entries are a few hundred bytes; anything far larger is not an entry.
    static let maxEntrySize = 1 << 20

    let store: any EntryDirectory
    /// Holds `--trusted-certificates`: when given, only entries signed by one of them are
    /// filed. Every local user may upload to the embedded default (each SlapOS partition is
    /// one), and must not be able to file entries the nodes would trust.
    let security: LiveSecuritySettings
    /// Set on a mirror: upstream's entries are listed after the local ones, which are the
    /// mirror's own uploads only.
    let mirror: DirectoryMirror?
    /// Set with `--upstream-push`: new entries are forwarded upstream.
    let push: UpstreamPush?
    /// What comes before a key in the path: `/shadir/`, after `--base-path`.
    let prefix: String

    func register(on router: some RouterMethods<Context>) {
        router.put("/shadir/**", use: index)
        router.get("/shadir/**", use: list)
    }

    @Sendable func index(_ request: Request, context: Context) async throws -> Response {
        let key = try key(of: request)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxEntrySize)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "a shadir entry is at most \(Self.maxEntrySize) bytes")
        }
        context.bytesReceived.add(body.readableBytes)
        let entry: ShadirEntry
        do {
            entry = try ShadirEntry(validatingBody: body.readableBytesView)
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
        if let trust = security.current.trust, !trust.verifies(info: entry.info, signature: entry.signature) {
            throw HTTPError(.forbidden, message: "the entry's signature does not verify against --trusted-certificates")
        }
        if let refusal = try await preconditionRefusal(request, key: key) { return Response(status: refusal) }
        let text = String(buffer: body)
        let added = try await store.add(key: key, body: text)
        // Filed while a sweep removed a blob it names (here or by an identical PUT at the
        // same moment): it must not stay naming nothing.
        let swept = try await store.sweptBlobs(among: entry.namedBlobs)
        if !swept.isEmpty {
            if added { _ = try await store.remove(key: key, bodies: [text]) }
            throw HTTPError(.conflict, message: "blob \(swept[0]) was removed by a sweep while this entry was filed: upload it again, then the entry")
        }
        if added { try await push?.entryFiled(key: key, body: text) }
        return Response(status: .created)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let key = try key(of: request)
        let listing = if let mirror { try await mirror.listing(for: key, local: try await store.bodies(for: key)) } else { try await store.listing(for: key) }
        guard let listing else { throw HTTPError(.notFound) }
        if let refusal = Preconditions(request.headers).refusal(tag: nil, method: request.method) { return Response(status: refusal) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: listing))
    }

    /// A key with no entry has no representation: `If-None-Match: *` files the first entry
    /// only, `If-Match: *` adds to a key that has some. Listings carry no tag, so a tag never
    /// matches. Looked up only when the request is conditional.
    private func preconditionRefusal(_ request: Request, key: String) async throws -> HTTPResponse.Status? {
        guard request.headers[.ifMatch] != nil || request.headers[.ifNoneMatch] != nil else { return nil }
        guard try await !store.bodies(for: key).isEmpty else {
            return request.headers[.ifMatch] != nil ? .preconditionFailed : nil
        }
        return Preconditions(request.headers).refusal(tag: nil, method: request.method)
    }

    private func key(of request: Request) throws -> String {
        let path = request.uri.path
        let raw = String(path.dropFirst(prefix.count))
        // Upstream sends keys raw: decoding only what is escaped spares most GETs Foundation.
        guard !raw.isEmpty, let key = raw.contains("%") ? raw.removingPercentEncoding : raw, !key.isEmpty else {
            throw HTTPError(.badRequest, message: "missing shadir key")
        }
        return key
    }
}
