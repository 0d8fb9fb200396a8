/// A chunk index that is not one: refused before any of its chunks is fetched.
public struct ChunkIndexError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = "chunk index: " + description
    }
}
