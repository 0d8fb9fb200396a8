import Foundation
import NetcacheClient
import NetcacheProtocol

/// Writes a warning line to stderr; stdout stays for data.
func printWarning(_ message: String) {
    StandardError.write("netcache: warning: \(message)\n")
}

/// Writes a result to stdout, unbuffered (scripts wait for it) and checked: a result that
/// cannot be written fails the command, whose one error line says so.
func printFlushed(_ text: String, terminator: String = "\n") throws {
    if let code = writeFully(STDOUT_FILENO, text + terminator) {
        throw CommandError("cannot write to standard output: \(String(cString: strerror(code)))")
    }
}

/// A failure while running a command: one line on stderr, exit status 1, no usage text
/// (ArgumentParser prints usage after a `ValidationError`, which is for bad arguments).
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
