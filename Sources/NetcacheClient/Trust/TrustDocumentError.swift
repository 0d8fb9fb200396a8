/// Why a trust document, a timestamp or a change to them was refused.
public struct TrustDocumentError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
