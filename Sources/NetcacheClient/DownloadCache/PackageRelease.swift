import Foundation

/// A Python distribution pinned as buildout pins it: `NAME==VERSION`.
public struct PackageRelease: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let version: String

    public init?(_ text: String) {
        let parts = text.components(separatedBy: "==")
        guard parts.count == 2 else { return nil }
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        let version = parts[1].trimmingCharacters(in: .whitespaces)
        let allowed = { (character: Character) in character.isLetter || character.isNumber || "._-+!".contains(character) }
        guard !name.isEmpty, !version.isEmpty, name.allSatisfy(allowed), version.allSatisfy(allowed) else { return nil }
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)==\(version)" }
}
