/// An administration request that cannot be carried out, and why.
public struct AdministrationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
