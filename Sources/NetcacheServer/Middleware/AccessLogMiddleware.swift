import Hummingbird
import Logging
import NIOCore

/// One log line per request: method, path, status, bytes, duration, and who the
/// credentials were; as fields of their own with `--log-format json`.
///
/// For a large body the line is written when it has been sent, so that the byte count and
/// the duration cover the whole transfer. A client that drops a download mid-body is
/// normal traffic (the Python client probes for blobs that way): logged, not an error.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = NetcacheRequestContext

    let logger: Logger
    let format: LogFormat
    let metrics: ServerMetrics
    let basePath: String
    /// Bodies above this size are counted as they are sent.
    static let countedBodySize = 64 << 10

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let line = RequestLine(method: request.method.rawValue, path: request.uri.path, start: start, uploader: context.uploader, format: format, logger: logger,
            metrics: metrics, route: ServerMetrics.route(of: request.uri.path, basePath: basePath))
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            line.log(status: error.status.code, received: context.bytesReceived.value, sent: 0)
            throw error
        } catch {
            line.log(status: 500, received: context.bytesReceived.value, sent: 0, note: "\(error)")
            throw error
        }
        let received = context.bytesReceived.value
        let status = response.status.code
        // A small body goes out in the same write as the head, and is logged as handed over:
        // wrapping it to count what is sent would cost Hummingbird's one-write path for
        // single-buffer bodies, a third of a shadir GET's throughput.
        if let length = response.body.contentLength, length <= Self.countedBodySize {
            line.log(status: status, received: received, sent: length)
            return response
        }
        var logged = response
        let body = response.body
        logged.body = ResponseBody(contentLength: body.contentLength) { writer in
            let sent = ByteCounter()
            do {
                try await body.write(CountingWriter(base: writer, counter: sent))
            } catch {
                line.log(status: status, received: received, sent: sent.value, note: "client went away")
                throw error
            }
            line.log(status: status, received: received, sent: sent.value)
        }
        return logged
    }
}
