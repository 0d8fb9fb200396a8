import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// TLS under HTTP, with the TLS context in force when the connection is accepted.
///
/// Written instead of Hummingbird's `TLSChannel`, which fixes one context at start-up and
/// keeps no client chain: SIGHUP must change the certificate for new connections without
/// closing the open ones, and the access policy needs the client's intermediates.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let base: BaseChannel
    let context: @Sendable () throws -> NIOSSLContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let chain = PresentedCertificateChain()
            let tls = NIOSSLServerHandler(context: try context(), customVerificationCallback: chain.record, configuration: .init())
            try channel.pipeline.syncOperations.addHandlers(tls, chain)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
