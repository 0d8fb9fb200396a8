import AsyncHTTPClient
import NIOCore

/// An S3 answer's body, read a piece at a time from whichever task asks next, so that each
/// wait can have its own deadline (`withDeadline`, which runs it in a task of its own).
/// Pieces are asked for one after another, never at once: that is what makes sharing the
/// iterator safe.
final class S3BodyReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ body: HTTPClientResponse.Body) {
        iterator = body.makeAsyncIterator()
    }

    func next() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}
