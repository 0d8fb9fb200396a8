import Synchronization

/// Where transfers say how far they are, for a progress display: the command line sets a
/// reporter when stderr is a terminal. Without one (the default, and always in the
/// server), transfers do not ask libcurl for progress at all.
public enum TransferProgress {
    /// A transfer's label ("GET URL"), bytes done, and total when known.
    public typealias Reporter = @Sendable (_ label: String, _ done: Int, _ total: Int?) -> Void

    private static let current = Mutex<Reporter?>(nil)

    public static func report(to reporter: Reporter?) {
        current.withLock { $0 = reporter }
    }

    static var reporter: Reporter? { current.withLock { $0 } }
}
