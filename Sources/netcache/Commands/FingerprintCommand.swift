import ArgumentParser
import BinaryCache
import NetcacheClient
import NetcacheProtocol

struct FingerprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Print this machine's platform as the binary cache records it.",
        discussion: """
            os is [id, version, codename] as the Python distro module reports them (from \
            /etc/os-release); multiarch is what `gcc -dumpmachine` prints, computed without \
            gcc; libc is the C library and its version.
            """
    )

    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp("SlapOS configuration file, for software_root.", valueName: "slapos.cfg"))
    var configFile: String?

    @Option(help: ArgumentHelp("The software_root to report; default: [slapos] software_root, else /opt/slapgrid.", valueName: "dir"))
    var softwareRoot: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        var root = "/opt/slapgrid"
        if let configFile, let configured = try INIFile(contentsOf: configFile).value("software_root", in: "slapos"), !configured.isEmpty {
            root = configured
        }
        let fingerprint = Fingerprint.current(softwareRoot: softwareRoot ?? root)
        if json {
            let object = JSONObject([
                ("os", .array(fingerprint.os.tuple.map(JSONValue.string))),
                ("multiarch", .string(fingerprint.multiarch)),
                ("libc", .array(fingerprint.libc.map(JSONValue.string))),
                ("software_root", .string(fingerprint.softwareRoot)),
            ])
            try printFlushed(JSONValue.object(object).pythonJSON)
        } else {
            try printFlushed("os             \(fingerprint.os.tuple.joined(separator: " "))")
            try printFlushed("multiarch      \(fingerprint.multiarch)")
            try printFlushed("libc           \(fingerprint.libc.joined(separator: " "))")
            try printFlushed("software_root  \(fingerprint.softwareRoot)")
        }
    }
}
