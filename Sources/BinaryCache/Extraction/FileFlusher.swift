import Foundation

/// Makes written files durable on a pool of threads: each file handed over is fsynced and
/// closed there, while the extraction goes on writing the next ones.
///
/// This flushes the release's own files only, as dpkg does, where one `syncfs` would also
/// wait for every other process's dirty data on the file system: on a busy node that can
/// take far longer than the install itself. fsync mostly waits for the disk, so many
/// threads keep many flushes in flight at little CPU cost. With fewer threads than asked
/// for (the system would not make more), it works with those it has; with none, each
/// file is flushed as it is handed over.
final class FileFlusher: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [(descriptor: Int32, path: String)] = []
    private var stopping = false
    private var producerWaiting = false
    private var failure: ArchiveError?
    private var threads = 0
    private let capacity: Int

    init(threads count: Int = 16, capacity: Int = 256) {
        self.capacity = capacity
        for _ in 0..<count {
            condition.lock()
            threads += 1
            condition.unlock()
            do {
                try DetachedThread.start { [self] in work() }
            } catch {
                condition.lock()
                threads -= 1
                condition.unlock()
                break
            }
        }
    }

    /// Takes ownership of `descriptor`; blocks while `capacity` files wait. Throws the first
    /// flush failure, so that extraction stops at once.
    func flush(_ descriptor: Int32, path: String) throws {
        condition.lock()
        defer { condition.unlock() }
        while pending.count >= capacity && failure == nil {
            producerWaiting = true
            condition.wait()
        }
        if let failure {
            close(descriptor)
            throw failure
        }
        if threads == 0 {
            failure = Self.flushAndClose(descriptor, path: path)
            if let failure { throw failure }
            return
        }
        pending.append((descriptor, path))
        // One thread is enough for one file: waking them all costs a context switch each.
        condition.signal()
    }

    /// Waits until every file handed over is on disk; throws the first failure.
    func finish() throws {
        try stop(discarding: false)
    }

    /// Closes what was not flushed yet and ends the threads.
    func cancel() {
        try? stop(discarding: true)
    }

    private func stop(discarding: Bool) throws {
        condition.lock()
        defer { condition.unlock() }
        if discarding {
            for file in pending { close(file.descriptor) }
            pending.removeAll()
        }
        stopping = true
        condition.broadcast()
        while threads > 0 { condition.wait() }
        if let failure { throw failure }
    }

    private func work() {
        condition.lock()
        while true {
            while pending.isEmpty && !stopping { condition.wait() }
            guard !pending.isEmpty else { break }
            let file = pending.removeFirst()
            if producerWaiting {
                producerWaiting = false
                condition.broadcast()
            }
            condition.unlock()
            let error = Self.flushAndClose(file.descriptor, path: file.path)
            condition.lock()
            if let error, failure == nil {
                failure = error
                condition.broadcast()
            }
        }
        threads -= 1
        condition.broadcast()
        condition.unlock()
    }

    private static func flushAndClose(_ descriptor: Int32, path: String) -> ArchiveError? {
        var result = fsync(descriptor)
        while result != 0 && errno == EINTR { result = fsync(descriptor) }
        let error = result == 0 ? nil : errno
        let closeError = close(descriptor) == 0 ? nil : errno
        return (error ?? closeError).map { ArchiveError("cannot write \(path): \(String(cString: strerror($0)))") }
    }
}
