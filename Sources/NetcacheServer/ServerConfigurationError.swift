/// A server setting that cannot work, said before anything is served (or, on SIGHUP,
/// logged while the previous settings stay in force).
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
