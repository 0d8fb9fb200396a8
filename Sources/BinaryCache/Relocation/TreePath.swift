/// A path inside a release tree, as a relocation manifest names it: relative, and made of
/// normal components only, so that opening it component by component, without following
/// symlinks, can never leave the tree.
public struct TreePath: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    public var description: String { components.joined(separator: "/") }

    /// Refuses an empty path, a leading `/`, an empty, `.` or `..` component, and NUL.
    public init(validating text: String) throws(RelocationRefused) {
        func refuse(_ why: String) -> RelocationRefused {
            RelocationRefused("'\(text.debugDescription.dropFirst().dropLast())': \(why)")
        }
        guard !text.isEmpty else { throw refuse("an empty path") }
        guard !text.utf8.contains(0) else { throw refuse("a NUL byte") }
        guard !text.hasPrefix("/") else { throw refuse("an absolute path") }
        let components = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for component in components {
            switch component {
            case "": throw refuse("an empty component")
            case ".": throw refuse("a '.' component")
            case "..": throw refuse("a '..' component")
            default: continue
            }
        }
        self.components = components
    }
}
