/// Why an entry's relocation cannot be trusted: its record, its manifest, or a path or
/// offset in it that the tree contradicts. Signed does not mean sane, so such an entry is
/// refused like a blob that is not what its entry signed: install tries the next one.
public struct RelocationRefused: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
