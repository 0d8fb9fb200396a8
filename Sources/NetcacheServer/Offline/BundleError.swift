/// A bundle could not be written or read; nothing of a failed import's entries was filed.
public struct BundleError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
