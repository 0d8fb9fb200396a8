import Foundation

/// Writes all of `bytes` to `descriptor`, going on after short writes and `EINTR`.
/// Returns the `errno` of the write that failed, `nil` once everything is written.
public func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    guard var next = bytes.baseAddress else { return nil }
    var left = bytes.count
    while left > 0 {
        let written = write(descriptor, next, left)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return written == 0 ? EIO : errno }
        next += written
        left -= written
    }
    return nil
}

/// `writeFully` of a string's UTF-8 bytes.
public func writeFully(_ descriptor: Int32, _ text: String) -> Int32? {
    var text = text
    return text.withUTF8 { writeFully(descriptor, UnsafeRawBufferPointer($0)) }
}
