import Foundation
import Synchronization

/// One transfer of a blob from upstream into staging, which every client asking for that
/// blob meanwhile reads as it grows: many clients cost one upstream request, and memory
/// grows with neither.
final class UpstreamBlobFetch: Sendable {
    /// What upstream answered, known before any byte.
    enum Head: Sendable, Equatable {
        case found(length: Int?)
        case missing
        case failed(String)
    }

    enum Outcome: Sendable, Equatable {
        /// Verified and in the store.
        case stored
        /// Cut, refused or not the blob asked for: nothing was kept.
        case failed(String)
    }

    private struct State {
        var head: Head?
        var written = 0
        var outcome: Outcome?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// The staging file, opened for reading: it stays readable once moved into the store
    /// (or removed), until the last reader is done with this fetch.
    let reader: Int32

    init(reader: Int32) {
        self.reader = reader
    }

    deinit {
        close(reader)
    }

    // MARK: The transfer's side

    func report(head: Head) {
        update { $0.head = $0.head ?? head }
    }

    func report(written: Int) {
        update { $0.written = written }
    }

    func finish(_ outcome: Outcome) {
        update { state in
            state.head = state.head ?? .failed(Self.reason(outcome))
            state.outcome = outcome
        }
    }

    // MARK: The readers' side

    func head() async -> Head {
        await wait { $0.head != nil }
        return state.withLock { $0.head! }
    }

    /// Waits until more than `position` bytes are there, or the transfer is over.
    func progress(beyond position: Int) async -> (written: Int, outcome: Outcome?) {
        await wait { $0.written > position || $0.outcome != nil }
        return state.withLock { ($0.written, $0.outcome) }
    }

    func outcome() async -> Outcome {
        await wait { $0.outcome != nil }
        return state.withLock { $0.outcome! }
    }

    private func update(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Every change wakes every waiter, which looks again: a condition checked and a wait
    /// registered under one lock lose no wake-up.
    private func wait(until ready: @escaping (State) -> Bool) async {
        while !state.withLock({ ready($0) }) {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state in
                    if ready(state) { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private static func reason(_ outcome: Outcome) -> String {
        if case .failed(let reason) = outcome { return reason }
        return "transfer ended before its head"
    }
}
