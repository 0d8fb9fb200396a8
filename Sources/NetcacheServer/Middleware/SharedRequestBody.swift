import Hummingbird
import NIOCore

/// A request body read in turn by two readers: the handler, then the middleware that throws
/// away what the handler left when it refused the request. Hummingbird's body may be
/// iterated only once; both readers go through this one cursor instead.
///
/// Unchecked `Sendable`: the readers never overlap. The middleware reads only after the
/// handler it awaited has returned or thrown.
final class SharedRequestBody: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBuffer

    private let body: RequestBody
    private var iterator: RequestBody.AsyncIterator?

    init(_ body: RequestBody) {
        self.body = body
    }

    func next() async throws -> ByteBuffer? {
        var current = iterator ?? body.makeAsyncIterator()
        defer { iterator = current }
        return try await current.next()
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let shared: SharedRequestBody

        func next() async throws -> ByteBuffer? {
            try await shared.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(shared: self)
    }
}
