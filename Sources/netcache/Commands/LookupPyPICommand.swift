import ArgumentParser
import NetcacheClient

struct LookupPyPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pypi",
        abstract: "List the download-cache entries of a Python distribution (like slapos cache-lookup pypi).",
        discussion: """
            Every entry under pypi:<NAME>=<VERSION>, in the order shadir keeps them, whether its \
            signature verifies against signature-certificate-list or not.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: ArgumentHelp("The distribution, pinned.", valueName: "NAME==VERSION"))
    var release: PackageRelease

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        try DownloadEntries(key: DownloadKey.pypi(release), cache: client.networkCache()).print(field: "basename", json: json)
    }
}
