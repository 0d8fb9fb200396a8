import Foundation

/// An INI file read as Python's `ConfigParser` reads slapos.cfg.
///
/// Keys are case-insensitive (lower-cased), `=` or `:` separates a key from its value,
/// indented lines continue the previous value (certificate lists, URL lists), whole-line
/// `#` and `;` comments are skipped, `[DEFAULT]` values show through every section, and
/// `%(name)s` / `%%` are interpolated.
public struct INIFile: Sendable {
    private var sections: [String: [String: String]] = [:]
    public private(set) var sectionNames: [String] = []

    public init(contentsOf path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try fileContents(path)
        } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError("cannot read configuration file \(path): it is not UTF-8")
        }
        try self.init(text: text, origin: path)
    }

    public init(text: String, origin: String = "configuration") throws {
        var section: String?
        var key: String?
        var keyIndent = 0
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let stripped = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if stripped.hasPrefix("#") || stripped.hasPrefix(";") { continue }
            if let section, let key, indent > keyIndent, !stripped.isEmpty {
                sections[section]![key]! += "\n" + stripped
                continue
            }
            if stripped.isEmpty {
                if let section, let key { sections[section]![key]! += "\n" }
                continue
            }
            if stripped.hasPrefix("[") && stripped.hasSuffix("]") {
                let name = String(stripped.dropFirst().dropLast())
                if sections[name] == nil {
                    sections[name] = [:]
                    sectionNames.append(name)
                }
                section = name
                key = nil
                continue
            }
            guard let section else {
                throw ConfigurationError("\(origin):\(number + 1): a value before any [section]")
            }
            guard let separator = stripped.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigurationError("\(origin):\(number + 1): expected 'key = value', got '\(stripped)'")
            }
            let name = stripped[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            sections[section]![name] = stripped[stripped.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            key = name
            keyIndent = indent
        }
        for (name, values) in sections {
            for (key, value) in values {
                sections[name]![key] = value.trimmingCharacters(in: .newlines)
            }
        }
    }

    public func hasSection(_ name: String) -> Bool {
        sections[name] != nil
    }

    /// The keys a section sets itself, sorted.
    public func keys(in section: String) -> [String] {
        (sections[section] ?? [:]).keys.sorted()
    }

    /// Whether a value of the section refers to `key` as `%(key)s`.
    public func interpolates(_ key: String, in section: String) -> Bool {
        (sections[section] ?? [:]).values.contains { $0.lowercased().contains("%(\(key))s") }
    }

    /// The interpolated value, or `nil` when neither the section nor `[DEFAULT]` has it.
    public func value(_ key: String, in section: String) -> String? {
        guard let raw = rawValue(key.lowercased(), in: section) else { return nil }
        return interpolate(raw, in: section, depth: 0)
    }

    private func rawValue(_ key: String, in section: String) -> String? {
        sections[section]?[key] ?? sections["DEFAULT"]?[key]
    }

    private func interpolate(_ value: String, in section: String, depth: Int) -> String {
        guard value.contains("%"), depth < 10 else { return value }
        var result = ""
        var rest = Substring(value)
        while let percent = rest.firstIndex(of: "%") {
            result += rest[..<percent]
            let after = rest[rest.index(after: percent)...]
            if after.hasPrefix("%") {
                result += "%"
                rest = after.dropFirst()
            } else if after.hasPrefix("("), let close = after.range(of: ")s") {
                let name = after[after.index(after: after.startIndex)..<close.lowerBound].lowercased()
                result += rawValue(name, in: section).map { interpolate($0, in: section, depth: depth + 1) } ?? ""
                rest = after[close.upperBound...]
            } else {
                result += "%"
                rest = after
            }
        }
        return result + rest
    }
}

/// A configuration that cannot be used, with where and why.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
