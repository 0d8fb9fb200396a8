import ArgumentParser
import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol

@main
struct Netcache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netcache",
        abstract: "The SlapOS network cache: shacache + shadir server, client and tools.",
        discussion: """
            Wire-compatible with slapos.libnetworkcache: machines running the Python tools \
            can use a netcache server, and netcache can use any deployed server.
            """,
        version: "netcache \(BuildVersion.version) (commit \(BuildVersion.commit))",
        subcommands: [
            ServeCommand.self, UploadCommand.self, DownloadCommand.self, KeygenCommand.self,
            FingerprintCommand.self, PublishCommand.self, InstallCommand.self, LookupCommand.self, FetchCommand.self,
            ExportCommand.self, ImportCommand.self, MirrorCommand.self, MigrateCommand.self, AdminCommand.self,
            TrustCommand.self, CosignCommand.self,
        ]
    )

    /// Every failure, usage errors included, starts so.
    static var _errorPrefix: String { "netcache: error: " }

    /// libarchive converts file names through the C library's locale; a process that never
    /// sets one runs in the "C" locale and cannot archive non-ASCII names.
    static func main() async {
        OpenSSLExitCleanup.disable()
        setlocale(LC_CTYPE, "C.UTF-8")
        // A file-size limit (ulimit -f) must fail the write that crosses it, which is then
        // reported and cleaned up, instead of killing the process halfway.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let (message, parent) = UsageError.unknownSubcommand(in: arguments) { UsageError.report(message, for: parent) }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help and --version end here too, successfully.
            if exitCode(for: error) == .success { exit(withError: error) }
            UsageError.reportParserError(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let interrupted as Interruption.Interrupted {
            StandardError.write("netcache: \(interrupted)\n")
            Foundation.exit(interrupted.exitStatus)
        } catch let error as ValidationError {
            UsageError.report(error.message, for: type(of: command))
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            // One line whatever the message holds: a name from an archive may hold a newline.
            let line = message(for: error).replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
            StandardError.write("\(_errorPrefix)\(line)\n")
            Foundation.exit(code.rawValue)
        }
    }
}
