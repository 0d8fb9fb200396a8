import Hummingbird
import NIOCore
import NIOHTTP1

/// Lets a client that sends its whole body before it reads any answer see a refusal.
///
/// Python's `http.client`, which `slapos.libnetworkcache` uploads with, sends no `Expect:
/// 100-continue`: it writes the whole body, then reads. The access policy (401, 403) and
/// the upload handler (413, 507) refuse before they have read the body; if the server then
/// stopped reading, that client would block in `send` until its timeout (an hour for the
/// Python uploader) and never see the status. So the refusal goes out at once, and then the
/// rest of the body is read and thrown away, as nginx discards a body and lingers before
/// closing; the client's send completes and it reads the status. A client that asked for
/// `100-continue` got its final answer before sending anything: it stops there.
struct RefusedBodyDrainMiddleware: RouterMiddleware {
    typealias Context = NetcacheRequestContext

    /// The most bytes thrown away after a refusal; past it the connection is closed.
    static let discardLimit = 4 << 30
    /// How long a refused body may take to arrive; past it the connection is closed.
    static let lingerTime = TimeAmount.seconds(30)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.hasBody(request) else { return try await next(request, context) }
        let body = SharedRequestBody(request.body)
        var reading = request
        reading.body = RequestBody(asyncSequence: body)
        var response: Response
        do {
            response = try await next(reading, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: reading, context: context)
        } catch let error as HTTPParserError {
            // A body that does not parse: Hummingbird answers 400 and closes.
            throw error
        } catch {
            // What Hummingbird answers for any other error (a failed write, say), drained too.
            response = Response(status: .internalServerError)
        }
        guard response.status.code >= 400 else { return response }
        let refusal = response.body
        let channel = context.channel
        response.body = ResponseBody(contentLength: refusal.contentLength) { writer in
            try await refusal.write(writer)
            await Self.discard(body, channel: channel)
        }
        return response
    }

    /// A body is announced by its length or by chunked framing (RFC 9112, 6.3).
    private static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }

    /// Reads the rest of the body to its end, within the bounds; closes the connection when
    /// it does not end within them or cannot be read.
    private static func discard(_ body: SharedRequestBody, channel: any Channel) async {
        let deadline = channel.eventLoop.scheduleTask(in: lingerTime) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var discarded = 0
        do {
            while let buffer = try await body.next() {
                discarded += buffer.readableBytes
                if discarded > discardLimit {
                    channel.close(promise: nil)
                    return
                }
            }
        } catch {
            channel.close(promise: nil)
        }
    }
}
