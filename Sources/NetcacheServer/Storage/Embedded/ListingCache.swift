import Synchronization

/// The listings of recently read shadir keys, as served, absent keys included, so that the
/// GETs of a hot key (every node looking up one release, or one missing download) skip
/// SQLite, the thread hops of reaching it and the rendering.
///
/// Sound only because this process is the one writer of its database (`DataDirectoryLock`):
/// every write drops the key it changed. A read that overlapped any write is not kept,
/// since it may have seen the database before that write.
final class ListingCache: Sendable {
    private struct State {
        var generation = 0
        var listings: [String: StoredListing] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    /// Bytes of keys and listings held; when a new listing would pass it, the cache starts
    /// afresh, which keeps memory bounded whatever the keys asked for.
    let byteLimit: Int

    init(byteLimit: Int = 64 << 20) {
        self.byteLimit = byteLimit
    }

    enum Lookup {
        case hit(StoredListing)
        /// Read the database, then `keep` the answer with this.
        case miss(Generation)
    }

    func lookup(_ key: String) -> Lookup {
        state.withLock { state in
            if let listing = state.listings[key] { return .hit(listing) }
            return .miss(Generation(value: state.generation))
        }
    }

    /// Keeps what a read that started at `generation` found, unless a write came since.
    func keep(_ listing: StoredListing, for key: String, readAt generation: Generation) {
        let size = Self.size(key, listing)
        guard size <= byteLimit else { return }
        state.withLock { state in
            guard state.generation == generation.value else { return }
            if state.bytes + size > byteLimit {
                state.listings.removeAll()
                state.bytes = 0
            }
            if state.listings.updateValue(listing, forKey: key) == nil { state.bytes += size }
        }
    }

    /// Called once a write to `key` is committed.
    func invalidate(_ key: String) {
        state.withLock { state in
            state.generation += 1
            if let listing = state.listings.removeValue(forKey: key) { state.bytes -= Self.size(key, listing) }
        }
    }

    private static func size(_ key: String, _ listing: StoredListing) -> Int {
        key.utf8.count + listing.size
    }

    /// When a read of the database began, relative to the writes.
    struct Generation {
        let value: Int
    }
}
