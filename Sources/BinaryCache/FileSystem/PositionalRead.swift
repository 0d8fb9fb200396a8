import Foundation

/// `pread` until `buffer` is full or the file ends, going on after short reads and
/// `EINTR`: fewer bytes than asked for then always mean the end of the file, never a read
/// that stopped early. Returns the count, or -1 with `errno` set.
func preadFully(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let count = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { return -1 }
        if count == 0 { break }
        done += count
    }
    return done
}
