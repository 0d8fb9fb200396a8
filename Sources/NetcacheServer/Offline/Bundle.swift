/// A bundle carries shadir entries and their blobs to a site with no network: a pax tar
/// holding `netcache-bundle.json` (its format), `shacache/<sha512>` for each blob, and last
/// `shadir.jsonl`, one `{"key": ..., "body": ...}` line per entry with the exact bytes
/// that were PUT, in insertion order.
enum Bundle {
    static let marker = "netcache-bundle.json"
    static let markerContent = #"{"format": "netcache-bundle", "version": 1}"#
    static let blobPrefix = "shacache/"
    static let entries = "shadir.jsonl"
}
