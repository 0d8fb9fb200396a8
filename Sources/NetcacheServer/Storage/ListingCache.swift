import Synchronization

/// The entries of recently read shadir keys, absent keys included, so that the GETs of a
/// hot key (every node looking up one release, or one missing download) skip SQLite and
/// the thread hops of reaching it.
///
/// Sound only because this process is the one writer of its database (`DataDirectoryLock`):
/// every write drops the key it changed. A read that overlapped any write is not kept,
/// since it may have seen the database before that write.
final class ListingCache: Sendable {
    private struct State {
        var generation = 0
        var bodies: [String: [String]] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    /// Bytes of keys and bodies held; when a new listing would pass it, the cache starts
    /// afresh, which keeps memory bounded whatever the keys asked for.
    let byteLimit: Int

    init(byteLimit: Int = 64 << 20) {
        self.byteLimit = byteLimit
    }

    enum Lookup {
        case hit([String])
        /// Read the database, then `keep` the answer with this.
        case miss(Generation)
    }

    func lookup(_ key: String) -> Lookup {
        state.withLock { state in
            if let bodies = state.bodies[key] { return .hit(bodies) }
            return .miss(Generation(value: state.generation))
        }
    }

    /// Keeps what a read that started at `generation` found, unless a write came since.
    func keep(_ bodies: [String], for key: String, readAt generation: Generation) {
        let size = key.utf8.count + bodies.reduce(0) { $0 + $1.utf8.count }
        guard size <= byteLimit else { return }
        state.withLock { state in
            guard state.generation == generation.value else { return }
            if state.bytes + size > byteLimit {
                state.bodies.removeAll()
                state.bytes = 0
            }
            if state.bodies.updateValue(bodies, forKey: key) == nil { state.bytes += size }
        }
    }

    /// Called once a write to `key` is committed.
    func invalidate(_ key: String) {
        state.withLock { state in
            state.generation += 1
            if let bodies = state.bodies.removeValue(forKey: key) {
                state.bytes -= key.utf8.count + bodies.reduce(0) { $0 + $1.utf8.count }
            }
        }
    }

    /// When a read of the database began, relative to the writes.
    struct Generation {
        let value: Int
    }
}
