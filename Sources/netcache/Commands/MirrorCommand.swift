import ArgumentParser

struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Fill a mirror, or a data directory to carry to an offline site.",
        subcommands: [MirrorPullCommand.self]
    )
}
