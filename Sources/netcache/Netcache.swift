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
        subcommands: [
            ServeCommand.self, UploadCommand.self, DownloadCommand.self, KeygenCommand.self,
            FingerprintCommand.self, PublishCommand.self, InstallCommand.self, LookupCommand.self, FetchCommand.self,
            ExportCommand.self, ImportCommand.self, MirrorCommand.self, MigrateCommand.self, AdminCommand.self,
        ]
    )

    /// libarchive converts file names through the C library's locale; a process that never
    /// sets one runs in the "C" locale and cannot archive non-ASCII names.
    static func main() async {
        OpenSSLExitCleanup.disable()
        setlocale(LC_CTYPE, "C.UTF-8")
        // A file-size limit (ulimit -f) must fail the write that crosses it, which is then
        // reported and cleaned up, instead of killing the process halfway.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let interrupted as Interruption.Interrupted {
            StandardError.write("netcache: \(interrupted)\n")
            Foundation.exit(interrupted.exitStatus)
        } catch {
            let code = exitCode(for: error)
            // Usage errors (64) and --help keep the parser's text, usage line included; every
            // other failure is one line, prefixed like the warnings.
            if code == .validationFailure || code == .success || error is ExitCode { exit(withError: error) }
            // One line whatever the message holds: a name from an archive may hold a newline.
            let line = message(for: error).replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
            StandardError.write("netcache: error: \(line)\n")
            Foundation.exit(code.rawValue)
        }
    }
}
