import CArchive

/// A failure while packing or unpacking a release, with the path and the library's message.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// libarchive's own message for the last failure on `archive`.
    init(_ context: String, archive: OpaquePointer?) {
        let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown libarchive error"
        self.init("\(context): \(message)")
    }
}
