import ArgumentParser
import NetcacheClient

struct LookupURLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url",
        abstract: "List the download-cache entries of a URL (like slapos cache-lookup url).",
        discussion: """
            Every entry under file-urlmd5:<md5(URL)>, in the order shadir keeps them (the newest \
            last), whether its signature verifies against signature-certificate-list or not. With \
            an empty list every entry counts as trusted, as upstream's download does.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: ArgumentHelp("URL of the file.", valueName: "url"))
    var url: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        try DownloadEntries(key: DownloadKey.url(url), cache: client.networkCache()).print(field: "url", json: json)
    }
}
