import Hummingbird
import NIOCore
import NetcacheProtocol

/// `GET /health`: whether this server can serve now, for load balancers and supervisors:
/// `200 {"status": "ready"}`, or `503 {"status": "unavailable", "problems": [...]}` naming
/// each backend that did not answer. Open to all, whatever the download policy.
struct HealthController {
    typealias Context = NetcacheRequestContext

    let backends: StorageBackends

    func register(on router: some RouterMethods<Context>) {
        router.get("/health", use: health)
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        let problems = await backends.problems()
        let body: JSONValue =
            problems.isEmpty
            ? .object(JSONObject([("status", .string("ready"))]))
            : .object(JSONObject([("status", .string("unavailable")), ("problems", .array(problems.map { .string($0) }))]))
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: problems.isEmpty ? .ok : .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.pythonJSON + "\n")))
    }
}
