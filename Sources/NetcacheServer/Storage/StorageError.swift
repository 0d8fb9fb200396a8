/// A storage failure, with the system's reason.
public struct StorageError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
