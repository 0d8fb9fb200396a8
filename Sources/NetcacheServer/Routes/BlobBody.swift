import Hummingbird
import NIOCore
import _NIOFileSystem

/// A blob's bytes as a response body, read one chunk at a time, the next one only once the
/// connection has taken the last: a download holds a chunk or two however slowly its
/// client reads, and memory does not grow with the number of clients.
///
/// A body writer's `write` waits only while the channel says it is not writable, and the
/// channel learns that only when its event loop gets to the writes handed to it. With many
/// connections on two event loops, a reader of the page cache hands over megabytes first:
/// 200 stalled downloads took 480 MB through Hummingbird's `FileIO`, 1.6 GB through this
/// loop without the wait, and 55 MB with it. So after each chunk the download waits for its
/// event loop to have handled it.
enum BlobBody {
    static let chunkLength: Int64 = 128 << 10

    static func make(path: String, range: Range<Int>, eventLoop: any EventLoop) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                var offset = Int64(range.lowerBound)
                let end = Int64(range.upperBound)
                while offset < end {
                    let chunk = try await handle.readChunk(fromAbsoluteOffset: offset, length: .bytes(min(chunkLength, end - offset)))
                    // Blobs never change once stored: a short read means the file is not one.
                    guard chunk.readableBytes > 0 else { throw HTTPError(.internalServerError, message: "blob shorter than its size") }
                    offset += Int64(chunk.readableBytes)
                    try await writer.write(chunk)
                    try await eventLoop.submit {}.get()
                }
            }
            try await writer.finish(nil)
        }
    }
}
