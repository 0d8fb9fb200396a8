import ArgumentParser
import NetcacheClient

/// `-c slapos.cfg`, shared by the client commands.
struct ClientOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp("SlapOS configuration file; its [networkcache] section is read.", valueName: "slapos.cfg"))
    var configFile: String

    func loadConfiguration() throws -> NetworkCacheConfiguration {
        NetworkCacheConfiguration(file: try readConfiguration(configFile))
    }

    /// The download-cache client, after saying which trust-list certificates were skipped.
    func networkCache() throws -> NetworkCache {
        let cache = try NetworkCache(configuration: loadConfiguration())
        for line in cache.trustSettings.skipped { printWarning(line) }
        return cache
    }
}

/// Reads slapos.cfg, warning of every `[networkcache]` key nobody reads.
func readConfiguration(_ path: String) throws -> INIFile {
    let file = try INIFile(contentsOf: path)
    for warning in NetworkCacheKeys.warnings(for: file, origin: path) { printWarning(warning) }
    return file
}
