import NIOCore
import NIOSSL

/// The certificates a TLS client sent, kept in its connection's pipeline.
///
/// NIOSSL keeps only the leaf of an unverified chain, and the access policy needs the
/// intermediates too, per request, to check them against the client CA in force then.
/// NIO takes only inbound or outbound handlers: this one passes every read on untouched.
final class PresentedCertificateChain: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    /// Leaf first; empty when the client sent none. Touched on the connection's event loop only.
    private(set) var certificates: [NIOSSLCertificate] = []

    /// The handshake's verification step: records the chain and lets every client in, so
    /// that anonymous downloads work and refused uploaders get a 403 rather than a failed
    /// handshake.
    func record(_ certificates: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>) {
        self.certificates = certificates
        promise.succeed(.certificateVerified)
    }
}

extension Channel {
    /// The chain the client presented, DER-encoded, leaf first; empty without TLS or
    /// without a client certificate.
    func presentedCertificateChain() async -> [[UInt8]] {
        let certificates = try? await pipeline.handler(type: PresentedCertificateChain.self).map(\.certificates).get()
        return (certificates ?? []).compactMap { try? $0.toDERBytes() }
    }
}
