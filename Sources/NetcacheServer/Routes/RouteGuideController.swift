import HTTPTypes
import Hummingbird
import NIOCore

/// The bare routes (`/`, `/shacache`, `/shadir`) say in a few lines what they are, so that
/// someone who points a browser or curl at a server learns its API instead of a blank 404;
/// a method a route does not take is a 405 naming those it does.
struct RouteGuideController {
    typealias Context = NetcacheRequestContext

    func register(on router: some RouterMethods<Context>) {
        router.get("/", use: Self.text(Self.overview))
        router.get("/shacache", use: Self.text("shacache: POST /shacache stores a blob and answers its SHA-512; GET or HEAD /shacache/<sha512> serves it.\n"))
        router.get("/shadir", use: Self.text("shadir: PUT /shadir/<key> files a signed entry; GET /shadir/<key> lists the entries under it.\n"))
        for method in [HTTPRequest.Method.put, .delete, .patch] {
            router.on("/shacache", method: method, use: Self.notAllowed(allow: "GET, POST"))
        }
        for method in [HTTPRequest.Method.put, .post, .delete, .patch] {
            router.on("/shacache/:sha512", method: method, use: Self.notAllowed(allow: "GET, HEAD"))
        }
        for method in [HTTPRequest.Method.post, .delete, .patch] {
            router.on("/shadir/**", method: method, use: Self.notAllowed(allow: "GET, PUT"))
        }
    }

    static let overview = """
        netcache: a SlapOS network cache.
        POST /shacache               store a blob (the body); answers its SHA-512
        GET|HEAD /shacache/<sha512>  a blob, with byte ranges
        PUT /shadir/<key>            file a signed entry (a JSON [info, signature] pair)
        GET /shadir/<key>            the entries under a key, as a JSON list
        GET /health                  whether the server can serve now
        GET /metrics                 Prometheus metrics
        The README's "HTTP API" section says more.

        """

    private static func text(_ body: String) -> @Sendable (Request, Context) async throws -> Response {
        { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    private static func notAllowed(allow: String) -> @Sendable (Request, Context) async throws -> Response {
        { request, _ in
            var headers = HTTPFields()
            headers[.allow] = allow
            headers[.contentType] = "text/plain; charset=utf-8"
            let body = "\(request.method) is not allowed here: \(allow)\n"
            return Response(status: .methodNotAllowed, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}
