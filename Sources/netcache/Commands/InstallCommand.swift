import ArgumentParser
import BinaryCache
import Foundation

struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a release from the binary cache, verified, into <software_root>/<md5(URL)>.",
        discussion: """
            Takes the first entry whose signature verifies against signature-certificate-list \
            and that suits this machine (same multiarch, same OS after SlapOS's normalisation, \
            same software_root, a C library no newer than this one), netcache's own entries \
            first. The archive is checked against its SHA-512 and expanded into a staging \
            directory, then moved into place: on failure nothing is left behind.

            With binary-cache-compatibility = abi in [networkcache], a netcache entry from another \
            distribution installs when this machine's loader finds every library its abi field \
            lists, each defining every version listed; the refusal names what is missing. A \
            relocatable netcache entry built under another software_root, no shorter than this \
            one, is rewritten in staging for this root, in place, with the root padded with '/' \
            to the old one's length (its signed relocation manifest lists where); a manifest \
            that the tree contradicts refuses the entry. binary-cache-relocate = false turns \
            relocation off.

            When the cache cannot be reached or has lost the blob, the next entry is tried \
            (zstd, then legacy gzip), then the release is built: a cache outage never stops \
            a build. An archive that is not what its entry signed moves on to the next \
            entry too, but is an error if none installs.

            Exit status: 0 installed; 3 build it (nothing trusted and compatible in the cache, \
            cache unreachable, blacklisted, cache not configured, empty trust list, or the \
            release directory already exists); 1 error, including a URL on \
            download-from-binary-cache-force-url-list that could not be installed; \
            128 + the signal's number when interrupted by SIGINT or SIGTERM.
            """
    )

    /// What an error means for a URL that is not forced.
    enum OnError: String, ExpressibleByArgument, CaseIterable {
        /// Exit 1: the error is the operator's to look at.
        case fail
        /// Exit 3, as slapgrid does: build it, after saying what went wrong.
        case build
    }

    @OptionGroup var options: BinaryCacheOptions

    @OptionGroup var progress: ProgressOptions

    @Option(help: ArgumentHelp("URL of the software release.", valueName: "url"))
    var softwareURL: String

    @Option(help: ArgumentHelp("What an error means for a URL that is not forced: fail (exit 1) or build (exit 3).", valueName: "fail|build"))
    var onError = OnError.fail

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Say on stderr every entry found and why it is or is not taken, each one tried, and the one installed.")
    var verbose = false

    @Flag(help: "Print one JSON document at the end instead: installed or not (and why), the path, key, format, size and sha512, warnings, and the seconds taken.")
    var json = false

    func run() throws {
        Interruption.watch()
        var summary = JSONSummary()
        summary.add("software_url", softwareURL)
        let display = progress.display()
        defer { display?.finish() }
        let settings = try options.settings()
        var installer = Installer(settings: settings)
        installer.buildOnError = onError == .build
        installer.onExtracted = display.map { display in { display.extracted($0) } }
        if verbose {
            installer.explain = { line in
                display?.clear()
                FileHandle.standardError.write(Data("netcache: \(line)\n".utf8))
            }
        }
        do {
            let installed = try installer.install(softwareURL: softwareURL)
            display?.finish()
            for warning in installed.warnings { printWarning(warning) }
            if json {
                summary.add("installed", .bool(true))
                summary.add("path", installed.path)
                summary.add("key", installed.key)
                summary.add("format", installed.entry.format.rawValue)
                summary.add("size", installed.entry.size)
                summary.add("sha512", installed.entry.sha512)
                summary.add("warnings", .array(installed.warnings.map { .string($0) }))
                summary.print()
                return
            }
            print("installed: \(installed.path) from \(installed.key) (\(installed.entry.format.rawValue), sha512 \(installed.entry.sha512))")
        } catch let buildIt as Installer.BuildIt {
            FileHandle.standardError.write(Data("netcache: not installed from the binary cache: \(buildIt.description)\n".utf8))
            if json {
                summary.add("installed", .bool(false))
                summary.add("reason", buildIt.description)
                summary.print()
            }
            throw ExitCode(3)
        }
    }
}
