/// The data directory's file system is full (or the quota reached): the upload is refused
/// with 507, and nothing of it is kept.
public struct StorageFull: Error, CustomStringConvertible {
    public let reason: String

    public var description: String { "not enough space for the upload: \(reason)" }
}
