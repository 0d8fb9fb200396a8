import Foundation

/// An upload to a mirror that upstream refused for good (`--upstream-push`): set aside,
/// kept here, no longer forwarded; `netcache admin push-refused` lists them.
public struct RefusedPush: Sendable {
    /// Its place in upload order.
    public let id: Int64
    /// Set for a blob.
    public let sha512: String?
    /// Set for an entry, with its PUT body.
    public let key: String?
    public let body: String?
    /// Upstream's answer (0 when the upload could not even be sent).
    public let status: Int
    public let reason: String
    public let refusedAt: Date

    /// Reads the uploads set aside in a mirror's data directory, oldest first.
    public static func all(in dataDirectory: URL) throws -> [RefusedPush] {
        try PushQueue.refused(in: dataDirectory)
    }

    /// Puts those with these ids (all when none is given) back in the queue, in their
    /// place; how many went back.
    public static func requeue(in dataDirectory: URL, ids: [Int64]) throws -> Int {
        try PushQueue.requeue(in: dataDirectory, ids: ids)
    }
}
