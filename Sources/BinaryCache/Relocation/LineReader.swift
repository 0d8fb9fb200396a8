import Foundation

/// Lines of a file read from its start through a descriptor, without their newline; a
/// line longer than `limit` is refused rather than read into memory.
struct LineReader {
    let descriptor: Int32
    let limit: Int
    private var buffer: [UInt8] = []
    /// Where the next line starts in `buffer`, and how much of it is known to hold no newline.
    private var start = 0
    private var searched = 0
    private var position = 0
    private var atEnd = false

    init(descriptor: Int32, limit: Int) {
        self.descriptor = descriptor
        self.limit = limit
    }

    mutating func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[(start + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                searched = 0
                return line
            }
            searched = buffer.count - start
            guard searched <= limit else { throw RelocationRefused("relocation manifest: a line longer than \(limit >> 20) MiB") }
            if atEnd {
                guard searched == 0 else { throw RelocationRefused("relocation manifest: its last line has no newline") }
                return nil
            }
            buffer.removeSubrange(..<start)
            start = 0
            let count = try read(64 << 10)
            if count == 0 { atEnd = true }
        }
    }

    /// Appends up to `count` bytes; returns how many came.
    private mutating func read(_ count: Int) throws -> Int {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        while true {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + old, count, off_t(position)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                buffer.removeSubrange(old...)
                throw ArchiveError("cannot read the relocation manifest: \(String(cString: strerror(errno)))")
            }
            buffer.removeSubrange((old + got)...)
            position += got
            return got
        }
    }
}
