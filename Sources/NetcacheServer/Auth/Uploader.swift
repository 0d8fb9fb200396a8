import Synchronization

/// Who a request's credentials were ("user alice", "certificate /CN=builder"), set by the
/// access policy and read by the access log, which runs around it.
final class Uploader: Sendable {
    private let name = Mutex<String?>(nil)

    func set(_ value: String) {
        name.withLock { $0 = value }
    }

    var value: String? { name.withLock { $0 } }
}
