/// Told of what a pack writes, for scans that need the tree's contents in the same walk
/// (the ABI and relocation scans): each file is read where the packer opened it, by
/// descriptor.
protocol PackObserver: AnyObject {
    /// A regular file, open at `descriptor` (read it with `pread`).
    func packedFile(_ relative: String, descriptor: Int32) throws
    /// A symlink and its target.
    func packedSymlink(_ relative: String, target: String) throws
    /// A second name of a hard-linked file already packed under `first`.
    func packedHardLink(_ relative: String, to first: String)
}
