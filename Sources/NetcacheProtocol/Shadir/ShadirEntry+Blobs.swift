extension ShadirEntry {
    /// Every blob the entry names, its own `sha512` first, then the relocation manifest a
    /// netcache binary entry signs (`relocation.manifest.sha512`). What keeps, exports or
    /// mirrors an entry's blobs goes by this list: an archive whose manifest was swept no
    /// longer moves to another software_root.
    public var namedBlobs: [String] {
        guard let fields else { return [] }
        var blobs: [String] = []
        for value in [fields["sha512"], fields["relocation"]?.objectValue?["manifest"]?.objectValue?["sha512"]] {
            if let sha512 = value?.stringValue, isSHA512Hex(sha512) { blobs.append(sha512.lowercased()) }
        }
        return blobs
    }

    /// Whether the entry's blob is a chunk index (`compression: chunks`): the chunks it
    /// lists are the entry's too, though only the index names them.
    public var namesChunkIndex: Bool {
        fields?["compression"]?.stringValue == "chunks"
    }
}
