import Foundation
import NetcacheProtocol

/// Writes a warning line to stderr; stdout stays for data.
func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("netcache: warning: \(message)\n".utf8))
}

/// Writes a line to stdout unbuffered: scripts wait for it.
func printFlushed(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A failure while running a command: one line on stderr, exit status 1, no usage text
/// (ArgumentParser prints usage after a `ValidationError`, which is for bad arguments).
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
