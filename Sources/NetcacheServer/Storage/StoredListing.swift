import NIOCore
import NetcacheProtocol

/// A key's entries as stored, and as a GET serves them.
struct StoredListing: Sendable {
    /// The exact PUT bodies, in insertion order.
    let bodies: [String]
    /// The rendered listing; `nil` when the key has no entry.
    let rendered: ByteBuffer?

    init(bodies: [String]) {
        self.bodies = bodies
        rendered = bodies.isEmpty ? nil : ByteBuffer(string: ShadirListing.render(bodies: bodies))
    }

    /// What it holds in memory, roughly.
    var size: Int { bodies.reduce(0) { $0 + $1.utf8.count } + (rendered?.readableBytes ?? 0) }
}
