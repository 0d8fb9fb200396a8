import ArgumentParser
import BinaryCache

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Archive a built release and publish it to the binary cache.",
        discussion: """
            Packs <software_root>/<md5(URL)> once into a deterministic pax tar (the same tree \
            gives the same bytes, so republishing uploads nothing), compressed with zstd for \
            netcache (key netcache:<md5>) and, while legacy compatibility is on, with gzip for \
            unmodified SlapOS nodes (key <md5>). Every entry is signed. The netcache entry also \
            records abi (the libraries and symbol versions the tree's ELF files need from \
            outside it) and relocation (where software_root occurs in the tree, by kind).

            Left out, and listed: .netrc files at any depth, sockets, FIFOs, devices, and what \
            matches --exclude or binary-cache-exclude. A release holding a .shared marker or \
            on upload-to-binary-cache-url-blacklist is skipped (exit 0).
            """
    )

    @OptionGroup var options: BinaryCacheOptions

    @Option(help: ArgumentHelp("URL of the software release.", valueName: "url"))
    var softwareURL: String

    @Option(help: ArgumentHelp("Leave out paths matching this fnmatch pattern (repeatable).", valueName: "pattern"))
    var exclude: [String] = []

    @Flag(help: "Publish netcache's zstd archive only, not the legacy gzip one.")
    var noLegacy = false

    func run() throws {
        Interruption.watch()
        var settings = try options.settings()
        settings.excludePatterns += exclude
        if noLegacy { settings.legacy = false }
        var publisher = Publisher(settings: settings)
        let outcome = try publisher.publish(softwareURL: softwareURL)
        for (path, reason) in publisher.excluded { print("left out: \(path) (\(reason))") }
        for path in publisher.privilegeBitsDropped { print("setuid/setgid bit dropped: \(path)") }
        switch outcome {
        case .skipped(let reason):
            print("skipped: \(reason)")
        case .published(let archives):
            for archive in archives {
                let state = archive.indexed ? "published" : "unchanged"
                print("\(state): \(archive.key) \(archive.entry.format.rawValue) \(archive.entry.size ?? 0) bytes sha512 \(archive.entry.sha512)")
            }
        }
    }
}
