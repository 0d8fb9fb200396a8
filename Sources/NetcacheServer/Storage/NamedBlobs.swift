import NetcacheProtocol

/// The blobs a stored entry body names, its own first (`ShadirEntry.namedBlobs`); none for a
/// body that is not an entry.
enum NamedBlobs {
    static func of(_ body: String) -> [String] {
        (try? ShadirEntry(validatingBody: Array(body.utf8)))?.namedBlobs ?? []
    }
}
