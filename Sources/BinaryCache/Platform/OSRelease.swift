import Foundation

/// The OS distribution as `[id, version, codename]`, the values the Python `distro` module
/// gives (what slapos.core records in binary-cache entries).
///
/// Sources, in distro's order of preference: `/etc/os-release` (or `/usr/lib/os-release`),
/// a version parsed from its `PRETTY_NAME`, and for Debian-like systems
/// `/etc/debian_version` (testing and sid have no `VERSION_ID`). `lsb_release` and
/// vendor release files, distro's other sources, are not consulted: every distribution
/// SlapOS runs on ships os-release.
public struct OSRelease: Sendable, Equatable {
    public let id: String
    public let version: String
    public let codename: String

    public var tuple: [String] { [id, version, codename] }

    public init(id: String, version: String, codename: String) {
        self.id = id
        self.version = version
        self.codename = codename
    }

    public init(etcDirectory: String = "/etc") {
        let fields = Self.readOSRelease(etcDirectory: etcDirectory)
        var id = (fields["id"] ?? "").lowercased().replacingOccurrences(of: " ", with: "_")
        id = ["ol": "oracle", "opensuse-leap": "opensuse"][id] ?? id

        var candidates = [fields["version_id"] ?? "", Self.versionInPrettyName(fields["pretty_name"] ?? "")]
        let debianLike = id == "debian" || (fields["id_like"] ?? "").split(separator: " ").contains("debian")
        if debianLike, let text = try? String(contentsOfFile: etcDirectory + "/debian_version", encoding: .ascii) {
            candidates.append(text.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "")
        }
        var codename = ""
        if let versionField = fields["version"], let match = versionField.firstMatch(of: /\((\D+)\)|,\s*(\D+)/) {
            codename = String(match.output.1 ?? match.output.2 ?? "")
        }
        if let explicit = fields["version_codename"] {
            codename = explicit
        } else if let ubuntu = fields["ubuntu_codename"] {
            codename = ubuntu
        }
        self.init(id: id, version: candidates.first { !$0.isEmpty } ?? "", codename: codename)
    }

    /// Shell-style `KEY=value` lines, quotes and backslashes removed, keys lower-cased.
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equal = trimmed.firstIndex(of: "=") else { continue }
            var value = String(trimmed[trimmed.index(after: equal)...])
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            if trimmed.first != "'" { value = value.replacingOccurrences(of: "\\", with: "") }
            fields[trimmed[..<equal].lowercased()] = value
        }
        return fields
    }

    private static func readOSRelease(etcDirectory: String) -> [String: String] {
        for path in [etcDirectory + "/os-release", "/usr/lib/os-release"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return parse(text) }
        }
        return [:]
    }

    /// distro's reading of a release line: "Ubuntu 22.04.3 LTS" gives "22.04.3".
    static func versionInPrettyName(_ text: String) -> String {
        guard let match = text.trimmingCharacters(in: .whitespaces).firstMatch(of: /^.+? +(?:release +)?([\d.+\-a-z]*\d)(?: +LTS)?(?: *\(.*\))?$/) else {
            return ""
        }
        return String(match.output.1)
    }
}
