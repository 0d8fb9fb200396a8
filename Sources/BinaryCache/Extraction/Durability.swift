/// How an installed tree is made durable before it is moved into place
/// (`binary-cache-install-sync` in `[networkcache]`).
public enum Durability: String, Sendable {
    /// Each file and directory of the release is fsynced: nothing else on the file system
    /// is flushed, so other processes' writes never slow the install down (the default).
    case files
    /// One `syncfs` of software_root's file system: fewer, larger writes, but it waits for
    /// whatever else is dirty there too. For nodes where nothing else writes meanwhile.
    case filesystem
}
