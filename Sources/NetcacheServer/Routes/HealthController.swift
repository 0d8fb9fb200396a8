import Hummingbird
import NIOCore
import NetcacheProtocol

/// `GET /health`: whether this server can serve now, for load balancers and supervisors:
/// `200 {"status": "ready"}` or `503 {"status": "unavailable"}`. Open to all, whatever the
/// download policy; only callers with upload credentials also get `problems`, the backends
/// that did not answer and why, which name paths and endpoints.
struct HealthController {
    typealias Context = NetcacheRequestContext

    let health: BackendHealth
    let policy: AccessPolicy

    func register(on router: some RouterMethods<Context>) {
        router.get("/health", use: answer)
    }

    @Sendable func answer(_ request: Request, context: Context) async throws -> Response {
        let problems = await health.problems()
        var fields: [(String, JSONValue)] = [("status", .string(problems.isEmpty ? "ready" : "unavailable"))]
        if !problems.isEmpty, (try? await policy.authorise(request, context: context, upload: true)) != nil {
            fields.append(("problems", .array(problems.map { .string($0) })))
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let body = JSONValue.object(JSONObject(fields)).pythonJSON + "\n"
        return Response(status: problems.isEmpty ? .ok : .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
