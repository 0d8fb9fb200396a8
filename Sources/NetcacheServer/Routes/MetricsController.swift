import Hummingbird
import NIOCore

/// `GET /metrics`: `ServerMetrics` in the Prometheus text format, for a scraper. Open to
/// all, like `/health`.
struct MetricsController {
    typealias Context = NetcacheRequestContext

    let metrics: ServerMetrics

    func register(on router: some RouterMethods<Context>) {
        router.get("/metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
