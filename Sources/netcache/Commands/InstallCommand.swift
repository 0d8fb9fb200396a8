import ArgumentParser
import BinaryCache
import Foundation

struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a release from the binary cache, verified, into <software_root>/<md5(URL)>.",
        discussion: """
            Takes the first entry whose signature verifies against signature-certificate-list
            and that suits this machine (same multiarch, same OS after SlapOS's normalisation,
            same software_root, a C library no newer than this one), netcache's own entries
            first. The archive is checked against its SHA-512 and expanded into a staging
            directory, then moved into place: on failure nothing is left behind.

            Exit status: 0 installed; 3 build it (nothing trusted and compatible in the cache,
            blacklisted, cache not configured, empty trust list, or the release directory
            already exists); 1 error, including a URL on
            download-from-binary-cache-force-url-list that could not be installed.
            """
    )

    @OptionGroup var options: BinaryCacheOptions

    @Option(help: ArgumentHelp("URL of the software release.", valueName: "url"))
    var softwareURL: String

    func run() throws {
        let settings = try options.settings()
        do {
            let installed = try Installer(settings: settings).install(softwareURL: softwareURL)
            for warning in installed.warnings { printWarning(warning) }
            print("installed: \(installed.path) from \(installed.key) (\(installed.entry.format.rawValue), sha512 \(installed.entry.sha512))")
        } catch let buildIt as Installer.BuildIt {
            FileHandle.standardError.write(Data("netcache: build it: \(buildIt.description)\n".utf8))
            throw ExitCode(3)
        }
    }
}
