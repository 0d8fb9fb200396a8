import Hummingbird

/// Echoes `Connection: close`.
///
/// The Python client sends it and reads the body only after closing its side; Hummingbird
/// closes such connections but does not say so, and that client then reads an empty body.
struct ConnectionCloseMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let wantsClose = request.headers[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
        guard wantsClose else { return try await next(request, context) }
        do {
            var response = try await next(request, context)
            response.headers[.connection] = "close"
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[.connection] = "close"
            return response
        }
    }
}
