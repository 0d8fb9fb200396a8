/// Where trust documents and timestamps are filed in shadir.
public enum TrustKeys {
    /// Each version of a document, and each timestamp, is filed under
    /// `netcache-trust:<key id>` for every root of the document and of the one before it: a
    /// node finds it from whichever roots it trusts, through a rotation too.
    public static let documentPrefix = "netcache-trust:"

    public static func key(forRoot keyID: String) -> String {
        documentPrefix + keyID
    }
}
