import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's core storage, the connection (whose TLS client
/// certificate may authorise uploads), and for the log a counter of body bytes received and
/// who the credentials were.
public struct NetcacheRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel
    let bytesReceived = ByteCounter()
    let uploader = Uploader()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// A count shared between threads: body bytes between a handler and the middleware that
/// logs them, bcrypt checks.
final class ByteCounter: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ bytes: Int) {
        count.add(bytes, ordering: .relaxed)
    }

    var value: Int { count.load(ordering: .relaxed) }
}
