import Foundation

/// The whole of a small file (configuration, keys), read through a descriptor to its end,
/// going on after short reads and `EINTR`. A failure gives the system's reason:
/// Foundation's readers say "error 256" whatever went wrong.
public func fileContents(_ path: String) throws(FileReadError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw FileReadError(errno: errno) }
    defer { close(descriptor) }
    var contents: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { throw FileReadError(errno: errno) }
        if count == 0 { return contents }
        contents.append(contentsOf: buffer[..<count])
    }
}

/// A text file's contents, for configuration: the system's reason (`Is a directory`) or
/// `not UTF-8` when it cannot be had.
public func fileText(_ path: String) throws(FileReadError) -> String {
    guard let text = String(validating: try fileContents(path), as: UTF8.self) else { throw FileReadError(description: "not UTF-8") }
    return text
}

/// Why a file could not be read: the system's message.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(errno code: Int32) {
        description = String(cString: strerror(code))
    }

    init(description: String) {
        self.description = description
    }
}
