import ArgumentParser

@main
struct Netcache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netcache",
        abstract: "The SlapOS network cache: shacache + shadir server, client and tools.",
        discussion: """
            Wire-compatible with slapos.libnetworkcache: machines running the Python tools
            can use a netcache server, and netcache can use any deployed server.
            """,
        subcommands: [
            ServeCommand.self, UploadCommand.self, DownloadCommand.self, KeygenCommand.self,
            FingerprintCommand.self, PublishCommand.self, InstallCommand.self, LookupCommand.self,
        ]
    )
}
