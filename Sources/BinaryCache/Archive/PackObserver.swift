import Glibc

/// Told of what a pack writes, for scans that need the tree's contents in the same walk
/// (the ABI and relocation scans): each file is read where the packer opened it, by
/// descriptor.
protocol PackObserver: AnyObject {
    /// Any entry, with what it is packed as (setuid and setgid bits dropped), before the
    /// call for its kind; directories get this call only.
    func willPack(_ relative: String, status: stat) throws
    /// A regular file, open at `descriptor` (read it with `pread`).
    func packedFile(_ relative: String, descriptor: Int32) throws
    /// A symlink and its target.
    func packedSymlink(_ relative: String, target: String) throws
    /// A second name of a hard-linked file already packed under `first`.
    func packedHardLink(_ relative: String, to first: String)
}

extension PackObserver {
    func willPack(_ relative: String, status: stat) throws {}
}
