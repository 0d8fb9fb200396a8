import Foundation

/// Starts threads that say whether they started. Foundation's `Thread` does not: when
/// `pthread_create` fails (a thread or memory limit), the thread never runs, and whoever
/// then waits for it waits forever.
enum DetachedThread {
    /// Runs `body` on a new detached thread; throws, having run nothing, when the system
    /// cannot make one.
    static func start(_ body: @escaping @Sendable () -> Void) throws(ArchiveError) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let code = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard code == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw ArchiveError("cannot start a thread: \(String(cString: strerror(code)))")
        }
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void

        init(_ run: @escaping @Sendable () -> Void) {
            self.run = run
        }
    }
}
