import Foundation
import NetcacheClient
import Synchronization

/// SIGINT and SIGTERM. While a release is being expanded they stop the work, so that its
/// staging tree is removed before the process exits; at any other time they end the
/// process at once, as by default: nothing is then left that must be removed (spools have
/// no name, and a lock file left behind is removed by the next run).
public enum Interruption {
    /// What the interrupted work throws; the process then exits with `exitStatus`.
    public struct Interrupted: Error, CustomStringConvertible {
        public let signal: Int32

        public var description: String { "interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")" }
        public var exitStatus: Int32 { 128 + signal }
    }

    private struct State: ~Copyable {
        var signal: Int32?
        var stoppers: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
    }

    private static let state = Mutex(State())
    nonisolated(unsafe) private static let sources: [any DispatchSourceSignal] = [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { received(number) }
        source.resume()
        return source
    }

    /// Handles the signals from now on: a command that installs or publishes calls this
    /// first, so that it always ends saying it was interrupted, with 128 + the signal.
    public static func watch() {
        _ = sources
    }

    /// Runs `body`, which checks `check()` as it goes; a signal meanwhile also calls `stop`
    /// (from another thread), to wake `body` wherever it waits.
    static func stoppable<T>(stop: @escaping @Sendable () -> Void, _ body: () throws -> T) throws -> T {
        watch()
        let token = state.withLock { state in
            state.nextToken += 1
            state.stoppers[state.nextToken] = stop
            return state.nextToken
        }
        defer { _ = state.withLock { $0.stoppers.removeValue(forKey: token) } }
        try check()
        return try body()
    }

    /// Throws `Interrupted` once a signal has arrived.
    static func check() throws {
        if let signal = state.withLock({ $0.signal }) { throw Interrupted(signal: signal) }
    }

    private static func received(_ number: Int32) {
        let stoppers = state.withLock { state -> [@Sendable () -> Void] in
            state.signal = state.signal ?? number
            return Array(state.stoppers.values)
        }
        guard !stoppers.isEmpty else {
            StandardError.write("netcache: \(Interrupted(signal: number))\n")
            _exit(128 + number)
        }
        for stop in stoppers { stop() }
    }
}
