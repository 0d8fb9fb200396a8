import HTTPTypes

/// RFC 9110's conditional request headers, evaluated against a representation that exists:
/// a blob, whose strong entity tag is its SHA-512 and which never changes, or a shadir
/// listing, which has no tag.
///
/// Callers evaluate them only once they know the representation exists: a server ignores
/// preconditions when its answer without them would not be 2xx (13.2.1), so `If-None-Match:
/// *` on a missing blob is 404. Nothing here has a `Last-Modified`, so `If-Modified-Since`
/// and `If-Unmodified-Since` are ignored (13.1.3, 13.1.4) and an `If-Range` date never
/// validates (13.1.5).
struct Preconditions {
    private let ifMatch: String?
    private let ifNoneMatch: String?
    private let ifRange: String?

    init(_ headers: HTTPFields) {
        ifMatch = headers[.ifMatch]
        ifNoneMatch = headers[.ifNoneMatch]
        ifRange = headers[.ifRange]
    }

    /// The answer that replaces the method's, in 13.2.2's order: a failed `If-Match` is 412;
    /// a matching `If-None-Match` is 304 for GET and HEAD, 412 for any other method.
    func refusal(tag: String?, method: HTTPRequest.Method) -> HTTPResponse.Status? {
        if let ifMatch, !Self.matches(ifMatch, tag: tag, weakly: false) {
            return .preconditionFailed
        }
        if let ifNoneMatch, Self.matches(ifNoneMatch, tag: tag, weakly: true) {
            return method == .get || method == .head ? .notModified : .preconditionFailed
        }
        return nil
    }

    /// Whether a `Range` may be honoured: without `If-Range`, or when it names `tag` alone,
    /// compared strongly.
    func rangeValidates(tag: String) -> Bool {
        guard let ifRange else { return true }
        guard let list = EntityTagList(ifRange), !list.any, list.tags.count == 1 else { return false }
        return list.matches(tag, weakly: false)
    }

    /// `*` matches any current representation; a list, only one with a tag it names.
    private static func matches(_ value: String, tag: String?, weakly: Bool) -> Bool {
        guard let list = EntityTagList(value) else { return false }
        if list.any { return true }
        guard let tag else { return false }
        return list.matches(tag, weakly: weakly)
    }
}
