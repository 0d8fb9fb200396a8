/// Told of what a pack writes, for scans that need the tree's contents in the same walk
/// (the ABI scan): each file is read where the packer opened it, by descriptor.
protocol PackObserver: AnyObject {
    /// A regular file, open at `descriptor` (read it with `pread`).
    func packedFile(_ relative: String, descriptor: Int32) throws
    /// A symlink or a second name of a hard-linked file: a name the loader may find.
    func packedName(_ relative: String)
}
