import ArgumentParser
import NetcacheClient

/// `serve --config FILE`: the `[serve]` section of an INI file (slapos.cfg's syntax), one
/// key per long option (`listen = 0.0.0.0:8080`, `client-crl =` one file per line,
/// `allow-anonymous-uploads = true`), turned into the arguments it stands for.
struct ServeConfigurationFile {
    static let section = "serve"
    let path: String
    let file: INIFile

    init(path: String) throws {
        self.path = path
        file = try INIFile(contentsOf: path)
        guard file.hasSection(Self.section) else { throw ValidationError("\(path): no [\(Self.section)] section") }
    }

    /// The file's options as arguments, leaving out each one `commandLine` gives: the
    /// command line overrides the file, a repeatable option as a whole.
    func arguments(besides commandLine: [String]) throws -> [String] {
        var arguments: [String] = []
        for key in file.keys(in: Self.section) where key != "config" {
            let option = "--" + key
            if commandLine.contains(where: { $0 == option || $0.hasPrefix(option + "=") }) { continue }
            let value = file.value(key, in: Self.section) ?? ""
            switch value.lowercased() {
            case "true", "yes", "on":
                arguments.append(option)
            case "false", "no", "off":
                continue
            default:
                let values = value.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !values.isEmpty else { throw ValidationError("\(path): [\(Self.section)] \(key) has no value") }
                for single in values { arguments += [option, single] }
            }
        }
        return arguments
    }
}
