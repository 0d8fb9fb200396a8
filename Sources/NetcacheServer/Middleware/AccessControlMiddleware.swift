import Hummingbird

/// Applies the access policy before any handler reads a byte of the body: a refused
/// upload stores nothing.
struct AccessControlMiddleware: RouterMiddleware {
    typealias Context = NetcacheRequestContext

    let policy: AccessPolicy
    /// `/health` and `/metrics`, under the base path: open to all.
    let openPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Supervisors and load balancers ask without credentials.
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        let upload = request.method == .post || request.method == .put
        try await policy.authorise(request, context: context, upload: upload)
        return try await next(request, context)
    }
}
