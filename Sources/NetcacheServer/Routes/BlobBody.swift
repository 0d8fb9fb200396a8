import Hummingbird
import NIOCore

/// A blob's bytes as a response body, taken from its store one chunk at a time, the next
/// one only once the connection has taken the last: a download holds a chunk or two
/// however slowly its client reads, and memory does not grow with the number of clients.
///
/// A body writer's `write` waits only while the channel says it is not writable, and the
/// channel learns that only when its event loop gets to the writes handed to it. With many
/// connections on two event loops, a reader of the page cache hands over megabytes first:
/// 200 stalled downloads took 480 MB through Hummingbird's `FileIO`, 1.6 GB through this
/// loop without the wait, and 55 MB with it. So after each chunk the download waits for its
/// event loop to have handled it.
enum BlobBody {
    static func make(_ sha512: String, from store: any BlobStorage, range: Range<Int>, eventLoop: any EventLoop) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            try await store.read(sha512, range: range) { chunk in
                try await writer.write(chunk)
                try await eventLoop.submit {}.get()
            }
            try await writer.finish(nil)
        }
    }
}
