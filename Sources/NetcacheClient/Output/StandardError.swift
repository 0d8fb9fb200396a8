import Foundation

/// What the operator reads on stderr, written straight to its descriptor: reporting must
/// never stop the process (Foundation's non-throwing `FileHandle.write` traps on any
/// error), and a report that cannot be written is dropped, there being nowhere left to say so.
public enum StandardError {
    public static func write(_ text: String) {
        _ = writeFully(STDERR_FILENO, text)
    }
}
