import Foundation

/// Closed until `open()`, then open for good: what a test releases its held transfers
/// with, however many threads wait on it and whether or not any does.
final class TestGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }
}
