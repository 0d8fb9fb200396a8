import NetcacheClient

/// A path inside a release tree, as a relocation manifest names it: relative, and made of
/// normal components only, so that opening it component by component, without following
/// symlinks, can never leave the tree.
public struct TreePath: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    /// Escaped, so that a name holding a newline cannot forge a line of output.
    public var description: String { String(components.joined(separator: "/").debugDescription.dropFirst().dropLast()) }

    /// Refuses an empty path, a leading `/`, an empty, `.` or `..` component, NUL, and
    /// names longer than the file system takes (`NAME_MAX`, `PATH_MAX`). Split and compared
    /// as bytes, as the kernel will read them.
    public init(validating text: String) throws(RelocationRefused) {
        func refuse(_ why: String) -> RelocationRefused {
            RelocationRefused("'\(text.debugDescription.dropFirst().dropLast())': \(why)")
        }
        guard !text.isEmpty else { throw refuse("an empty path") }
        guard !text.utf8.contains(0) else { throw refuse("a NUL byte") }
        guard !isAbsolutePath(text) else { throw refuse("an absolute path") }
        guard text.utf8.count < 4096 else { throw refuse("a path longer than 4095 bytes") }
        let components = pathComponents(text, omittingEmpty: false)
        for component in components {
            switch Array(component.utf8) {
            case []: throw refuse("an empty component")
            case [0x2E]: throw refuse("a '.' component")
            case [0x2E, 0x2E]: throw refuse("a '..' component")
            case let bytes where bytes.count > 255: throw refuse("a component longer than 255 bytes")
            default: continue
            }
        }
        self.components = components
    }
}
