import NetcacheProtocol

/// Somewhere on the node that may already hold a chunk: the chunk cache, or the trees of
/// releases installed before. Only a hint: what a seed gives is checked against the
/// chunk's SHA-512 before use, and something else is as good as nothing.
protocol ChunkSeed: AnyObject, Sendable {
    /// What the node's owner calls it, for `install --verbose`.
    var name: String { get }
    /// Whether this seed says it holds the chunk, without reading it (a prediction).
    func holds(_ chunk: ChunkReference) -> Bool
    /// The chunk's bytes, checked; `nil` when this seed does not hold them, or holds
    /// something else.
    func bytes(of chunk: ChunkReference) -> [UInt8]?
}
