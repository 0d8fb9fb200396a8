import CZlib
import Dispatch

/// Legacy gzip on every core, the way pigz does it: the stream is cut into fixed blocks,
/// each deflated by a worker with the previous block's last 32 KiB as its dictionary and
/// ended on a byte boundary, and the blocks are written in order inside one gzip member
/// whose CRC is combined from theirs.
///
/// zlib directly, not libarchive's gzip filter: that filter deflates on one thread, and
/// the legacy archive was the slowest part of publishing. One member, not one per block:
/// streaming readers such as `tarfile`'s "r|gz" stop after the first member. Block
/// boundaries depend only on the input, so the same tree gives the same bytes whatever
/// the number of cores; no timestamp goes into the header.
///
/// `compress` and `finish` are called from one thread, which is also where `sink` runs.
final class GzipCompressor {
    private static let blockSize = 512 << 10
    private static let window = 32 << 10

    private let level: Int32
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    /// Serial queues taking blocks in turn: `workers` deflates at most at once.
    private let workers: [DispatchQueue]
    /// Blocks handed to the workers, oldest first; at most one more than there are
    /// workers, so that memory stays a few blocks whatever the stream's size.
    private var inFlight: [DeflateBlock] = []
    private var submitted = 0
    private var pending: [UInt8] = []
    private var dictionary: [UInt8] = []
    private var crc: UInt = crc32(0, nil, 0)
    private var totalSize: UInt64 = 0
    private var started = false

    init(level: Int = 1, workers: Int = 2, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.level = Int32(level)
        self.sink = sink
        self.workers = (0..<max(1, workers)).map { DispatchQueue(label: "netcache.gzip.\($0)") }
        pending.reserveCapacity(Self.blockSize)
    }

    func compress(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            let taken = rest.prefix(Self.blockSize - pending.count)
            pending.append(contentsOf: taken)
            rest = rest.dropFirst(taken.count)
            if pending.count == Self.blockSize {
                try submit(last: false)
            }
        }
    }

    /// Deflates what is left, ends the stream and writes the gzip trailer.
    func finish() throws {
        try submit(last: true)
        while !inFlight.isEmpty {
            try writeOldest()
        }
        var trailer: [UInt8] = []
        trailer.append(littleEndian: UInt32(truncatingIfNeeded: crc))
        trailer.append(littleEndian: UInt32(truncatingIfNeeded: totalSize))
        try trailer.withUnsafeBytes(sink)
    }

    /// Waits for the workers after a failure elsewhere, so that none outlives the stream.
    func cancel() {
        for block in inFlight { block.done.wait() }
        inFlight.removeAll()
    }

    private func submit(last: Bool) throws {
        let block = DeflateBlock(input: pending, dictionary: dictionary, level: level, last: last)
        dictionary = Array(pending.suffix(Self.window))
        pending = []
        pending.reserveCapacity(last ? 0 : Self.blockSize)
        workers[submitted % workers.count].async { block.deflate() }
        submitted += 1
        inFlight.append(block)
        while inFlight.count > workers.count + 1 {
            try writeOldest()
        }
    }

    private func writeOldest() throws {
        let block = inFlight.removeFirst()
        block.done.wait()
        if let failure = block.failure { throw failure }
        if !started {
            // Magic, deflate, no flags, no mtime, "fastest" or "best" as gzip says it, Unix.
            let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level == 1 ? 4 : level == 9 ? 2 : 0, 3]
            try header.withUnsafeBytes(sink)
            started = true
        }
        try block.output.withUnsafeBytes(sink)
        crc = crc32_combine(crc, block.crc, off_t(block.input.count))
        totalSize += UInt64(block.input.count)
    }
}

/// One block of the stream and, once `done` is signalled, its raw deflate bytes and CRC.
private final class DeflateBlock: @unchecked Sendable {
    let input: [UInt8]
    private let dictionary: [UInt8]
    private let level: Int32
    private let last: Bool
    let done = DispatchSemaphore(value: 0)
    private(set) var output: [UInt8] = []
    private(set) var crc: UInt = 0
    private(set) var failure: ArchiveError?

    init(input: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) {
        self.input = input
        self.dictionary = dictionary
        self.level = level
        self.last = last
    }

    func deflate() {
        defer { done.signal() }
        do {
            try run()
        } catch {
            failure = error
        }
    }

    private func run() throws(ArchiveError) {
        var stream = z_stream()
        guard netcache_deflate_init_raw(&stream, level) == Z_OK else { throw ArchiveError("gzip: cannot start zlib") }
        defer { deflateEnd(&stream) }
        if !dictionary.isEmpty {
            let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
            guard status == Z_OK else { throw zlibError(&stream, status) }
        }
        // deflateBound covers the block; a sync flush adds an empty stored block.
        let capacity = Int(deflateBound(&stream, uLong(input.count))) + 16
        var status = Z_OK
        let output = input.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: capacity) { target, written in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                status = CZlib.deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH)
                written = target.count - Int(stream.avail_out)
            }
        }
        // Room left over proves the flush was written whole: zlib says Z_OK either way.
        guard status == (last ? Z_STREAM_END : Z_OK), stream.avail_in == 0, stream.avail_out > 0 else {
            throw zlibError(&stream, status)
        }
        self.output = output
        crc = input.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    }

    private func zlibError(_ stream: inout z_stream, _ status: Int32) -> ArchiveError {
        ArchiveError("gzip: " + (stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"))
    }
}

private extension Array where Element == UInt8 {
    mutating func append(littleEndian value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
