/// Where a normalised stretch of bytes stands for something of the node's: the
/// placeholder for its root, or the marker for the release's directory name.
public struct ChunkSubstitution: Sendable, Equatable {
    /// Where it starts in the normalised bytes.
    public let offset: Int
    /// What the normalised bytes hold there.
    public let normalised: [UInt8]
    /// Whether it stands for the root (else for the release's name).
    public let isRoot: Bool

    /// The substitutions of an entry's `roots` and `releases`, in order.
    public static func of(roots: [Int], releases: [Int]) -> [ChunkSubstitution] {
        var result: [ChunkSubstitution] = []
        var released = Set(releases)
        for root in roots {
            result.append(ChunkSubstitution(offset: root, normalised: ChunkIndex.placeholder, isRoot: true))
            if released.remove(root) != nil {
                result.append(ChunkSubstitution(offset: root + ChunkIndex.placeholder.count, normalised: ChunkIndex.releaseMarker, isRoot: false))
            }
        }
        return result
    }
}
