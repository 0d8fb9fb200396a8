import Foundation
import NetcacheClient
import Synchronization

/// One line of progress on stderr while a command works: for a transfer, bytes done and
/// total, rate and time left; for packing, files and bytes. Drawn only when stderr is a
/// terminal and `--quiet` was not given, at most ten times a second, and erased before the
/// command prints its result.
final class ProgressDisplay: Sendable {
    private struct State {
        var lastDrawn = ContinuousClock.now - .seconds(1)
        var started: [String: ContinuousClock.Instant] = [:]
        var drawn = false
        /// The transfer last drawn complete: libcurl reports the end more than once.
        var completed: String?
        /// Said after a transfer's figures: what is done with the bytes as they come.
        var suffix = ""
    }

    private let state = Mutex(State())

    /// The display, reporting every transfer of this process; `nil` when it would draw nothing.
    static func start(quiet: Bool) -> ProgressDisplay? {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        let display = ProgressDisplay()
        TransferProgress.report { label, done, total in display.transfer(label, done: done, total: total) }
        return display
    }

    func transfer(_ label: String, done: Int, total: Int?) {
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            let started = state.started[label] ?? now
            state.started[label] = started
            if done == total {
                guard state.completed != label else { return nil }
                state.completed = label
            } else if now - state.lastDrawn < .milliseconds(100) {
                return nil
            }
            state.lastDrawn = now
            state.drawn = true
            let elapsed = Self.seconds(now - started)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            var line = "\(Self.shortened(label)): \(Self.bytes(done))"
            if let total {
                line += " of \(Self.bytes(total))"
                if rate > 0, total > done { line += ", \(Self.bytes(Int(rate)))/s, \(Int((Double(total - done) / rate).rounded(.up))) s left" }
            } else if rate > 0 {
                line += ", \(Self.bytes(Int(rate)))/s"
            }
            return line + state.suffix
        }
        if let line { draw(line) }
    }

    /// Files extracted from a download as it arrives, shown after its figures.
    func extracted(_ files: Int) {
        state.withLock { $0.suffix = ", \(files) files extracted" }
    }

    /// Files handled so far, with their bytes: packing a release, a bundle's blobs.
    func count(_ verb: String, files: Int, bytes: Int) {
        let now = ContinuousClock.now
        let due = state.withLock { state in
            guard now - state.lastDrawn >= .milliseconds(100) else { return false }
            state.lastDrawn = now
            state.drawn = true
            return true
        }
        if due { draw("\(verb) \(files) files, \(Self.bytes(bytes))") }
    }

    /// Erases the line, before the command prints something.
    func clear() {
        let drawn = state.withLock { state in
            defer { state.drawn = false }
            return state.drawn
        }
        if drawn { StandardError.write("\r\u{1B}[K") }
    }

    /// Erases the line and stops reporting.
    func finish() {
        TransferProgress.report(to: nil)
        clear()
    }

    private func draw(_ line: String) {
        StandardError.write("\r\u{1B}[K\(line)")
    }

    /// "GET https://host/shacache/0f3a…" as "GET shacache/0f3a1b2c…".
    private static func shortened(_ label: String) -> String {
        let parts = label.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let url = URL(string: String(parts[1])) else { return label }
        let components = url.pathComponents.filter { $0 != "/" }.suffix(2).map { $0.count > 24 ? $0.prefix(16) + "…" : Substring($0) }
        return "\(parts[0]) \(components.joined(separator: "/"))"
    }

    private static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
