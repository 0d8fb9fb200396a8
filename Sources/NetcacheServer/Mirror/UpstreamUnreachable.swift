import NetcacheClient

/// A transfer from upstream that failed on upstream's side (no connection, a cut, silence
/// or a trickle), as opposed to a refusal or a failure here: upstream is then left alone
/// for the back-off.
struct UpstreamUnreachable: Error, CustomStringConvertible {
    let url: String
    let error: any Error

    var description: String { "GET \(redactedURL(url)): \(error)" }
}
