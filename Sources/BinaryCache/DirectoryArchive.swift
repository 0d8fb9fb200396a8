import Foundation

/// A directory as a gzip tar whose top entry is the directory's name: what
/// `networkcache-upload --url DIR` uploads (upstream uses `tarfile`, mode "w:gz").
public enum DirectoryArchive {
    /// Writes the archive to an unnamed file in `temporaryDirectory`, gone with the returned
    /// spool. What packing leaves out (`.netrc`, special files) is returned too.
    public static func gzipTar(of directory: String, in temporaryDirectory: String) throws -> (spool: SpooledArchive, excluded: [(path: String, reason: String)]) {
        let url = URL(fileURLWithPath: directory).standardizedFileURL
        let owner = try Publisher.ownerNames(of: url.path)
        let spool = try SpooledArchive(directory: temporaryDirectory)
        let gzip = GzipCompressor(level: 6, sink: spool.write)
        let packer = TreePacker(source: url.path, top: url.lastPathComponent, ownerName: owner.user, groupName: owner.group, excludePatterns: [])
        let report: PackReport
        do {
            report = try packer.pack(into: gzip.compress)
            try gzip.finish()
        } catch {
            gzip.cancel()
            throw error
        }
        return (spool, report.excluded)
    }
}
