import Foundation

/// A local file could not be written: the path and the system's reason.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ context: String, errno code: Int32? = nil) {
        description = code.map { "\(context): \(String(cString: strerror($0)))" } ?? context
    }
}
