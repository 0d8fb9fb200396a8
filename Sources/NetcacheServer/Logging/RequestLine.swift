import Logging

/// What the access log says of one request, kept from its head to the end of its answer.
struct RequestLine: Sendable {
    let method: String
    let path: String
    let start: ContinuousClock.Instant
    let uploader: Uploader
    let format: LogFormat
    let logger: Logger
    let metrics: ServerMetrics
    let route: String

    /// `bytes` in the line is the larger of what came in and what went out.
    func log(status: Int, received: Int, sent: Int, note: String? = nil) {
        let elapsed = ContinuousClock.now - start
        metrics.request(route: route, method: method, status: status, received: received, sent: sent, duration: elapsed)
        let bytes = max(received, sent)
        // Tenths of a millisecond, by hand: String(format:) cost a few per cent of a shadir GET.
        let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
        let who = uploader.value
        switch format {
        case .text:
            var message = "\(method) \(path) \(status) \(bytes) \(tenths / 10).\(tenths % 10)ms"
            if let who { message += " by \(who)" }
            if let note { message += " (\(note))" }
            logger.info("\(message)")
        case .json:
            var fields: Logger.Metadata = [
                "method": .string(method), "path": .string(path), "status": .stringConvertible(status), "bytes": .stringConvertible(bytes),
                "duration_ms": .stringConvertible(Double(tenths) / 10),
            ]
            if let who { fields["uploader"] = .string(who) }
            if let note { fields["note"] = .string(note) }
            logger.info("request", metadata: fields)
        }
    }
}
