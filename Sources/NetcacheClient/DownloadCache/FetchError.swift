/// A file could not be fetched from the cache nor from its origin; nothing was written.
public struct FetchError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
