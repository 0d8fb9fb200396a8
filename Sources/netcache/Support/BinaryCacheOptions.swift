import ArgumentParser
import BinaryCache
import NetcacheClient

/// `-c slapos.cfg` and `--software-root`, shared by the binary-cache commands.
struct BinaryCacheOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp("SlapOS configuration file: [networkcache] and [slapos] are read.", valueName: "slapos.cfg"))
    var configFile: String

    @Option(help: ArgumentHelp("Where releases live; default: software_root of [slapos], else /opt/slapgrid.", valueName: "dir"))
    var softwareRoot: String?

    func settings() throws -> BinaryCacheSettings {
        var settings = try BinaryCacheSettings(file: readConfiguration(configFile))
        if let softwareRoot { settings.softwareRoot = softwareRoot }
        return settings
    }
}
