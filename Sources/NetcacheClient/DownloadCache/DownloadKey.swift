import NetcacheProtocol

/// The shadir keys buildout files downloads under: `file-urlmd5:<md5 of the URL>` and
/// `pypi:<name>=<version>`.
public enum DownloadKey {
    /// `file-urlmd5:<md5(url)>`, entries `{"sha512", "url"}`: any file a build downloads.
    public static func url(_ url: String) -> String {
        "file-urlmd5:" + StreamingDigest.md5Hex(of: url)
    }

    /// `pypi:<name>=<version>`, entries `{"basename", "sha512"}`: a Python distribution.
    public static func pypi(_ release: PackageRelease) -> String {
        "pypi:\(release.name)=\(release.version)"
    }
}
