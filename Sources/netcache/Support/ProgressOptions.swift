import ArgumentParser

/// `--quiet`, shared by the commands that show progress.
struct ProgressOptions: ParsableArguments {
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress line on a terminal (none is drawn when stderr is not one).")
    var quiet = false

    func display() -> ProgressDisplay? {
        ProgressDisplay.start(quiet: quiet)
    }
}
