import ArgumentParser
import Foundation
import NetcacheClient

/// How a command line is refused: in the one format of every failure, `netcache: error: ...`,
/// then the usage of the command that was meant, and exit status 64.
///
/// Checks that weigh several options together run in `run()`, not `validate()`: the parser
/// validates before it looks for unknown options, so `--kye` would be reported as a missing
/// `--key` instead of as a misspelling.
enum UsageError {
    /// The parser's own errors (unknown or missing options, bad values), its wording kept
    /// but for the prefix and the hint, which read as the rest of our messages.
    static func reportParserError(_ error: Error) -> Never {
        var lines = Netcache.fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let first = lines.first, first.hasPrefix(Netcache._errorPrefix) {
            let message = first.dropFirst(Netcache._errorPrefix.count)
            lines[0] = Netcache._errorPrefix + message.prefix(1).lowercased() + message.dropFirst().replacingOccurrences(of: ". Did you mean", with: "; did you mean")
        }
        report(lines.joined(separator: "\n"))
    }

    /// An error a command threw about its own arguments, with that command's usage.
    static func report(_ message: String, for command: ParsableCommand.Type) -> Never {
        let names = CommandTree.path(to: command).map { $0._commandName }.joined(separator: " ")
        report("""
            \(Netcache._errorPrefix)\(message)
            Usage: \(Netcache.usageString(for: command))
              See '\(names) --help' for more information.
            """)
    }

    /// A word where a subcommand is expected that names none, with the nearest one: without
    /// this the parser goes on and complains about the first option that follows.
    static func unknownSubcommand(in arguments: [String]) -> (message: String, parent: ParsableCommand.Type)? {
        var command: ParsableCommand.Type = Netcache.self
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-"), word != "help" else { return nil }
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                let hint = Spelling.nearest(to: word, among: subcommands.map { $0._commandName }).map { "; did you mean '\($0)'?" } ?? ""
                return ("unknown command '\(word)'\(hint)", command)
            }
            command = next
        }
        return nil
    }

    private static func report(_ text: String) -> Never {
        StandardError.write(text.hasSuffix("\n") ? text : text + "\n")
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }
}
