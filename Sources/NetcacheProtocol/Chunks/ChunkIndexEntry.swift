/// One entry of a chunked release tree, in the order the tree is written. Paths are
/// relative to the release directory; the release directory itself is the first entry,
/// a directory with the empty path.
///
/// `roots` are the offsets, in the normalised bytes (a file's content, a symlink's target),
/// where `ChunkIndex.placeholder` stands for the software_root the tree names; `releases`,
/// those of them followed by `ChunkIndex.releaseMarker` in place of the release's own
/// directory name (the MD5 of its URL), which a release's files name most: an upgrade,
/// whose URL differs, then still shares their chunks.
public enum ChunkIndexEntry: Sendable, Equatable {
    case directory(path: String, mode: UInt32, mtime: Int)
    /// `size` is the file's size once its roots are written back; `length`, the bytes it
    /// takes in the content stream.
    case file(path: String, mode: UInt32, mtime: Int, size: Int, length: Int, roots: [Int], releases: [Int])
    case symlink(path: String, mtime: Int, target: String, roots: [Int], releases: [Int])
    /// A second name of the file first written under `to`.
    case hardLink(path: String, to: String)

    public var path: String {
        switch self {
        case .directory(let path, _, _), .file(let path, _, _, _, _, _, _), .symlink(let path, _, _, _, _), .hardLink(let path, _): path
        }
    }
}
