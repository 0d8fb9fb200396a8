import CZstd

@testable import BinaryCache

/// Streaming zstd, for the whole-archive (zstd) entries that netcache published before
/// chunk indexes and still installs: the tests make such archives, hostile ones included.
final class ZstdCompressor {
    private let context: OpaquePointer
    private var output: [UInt8]
    private let sink: (UnsafeRawBufferPointer) throws -> Void

    init(level: Int32 = 3, workers: Int32 = 2, jobSize: Int32 = 2 << 20, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let context = ZSTD_createCCtx() else { throw ArchiveError("zstd: cannot allocate a compression context") }
        self.context = context
        self.sink = sink
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, max(1, workers)))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, jobSize))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    func compress(_ bytes: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            try drain(&input, ZSTD_e_continue)
        }
    }

    /// Flushes everything and writes the frame's end.
    func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try drain(&input, ZSTD_e_end) != 0 {}
    }

    @discardableResult
    private func drain(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws -> Int {
        try output.withUnsafeMutableBytes { buffer in
            var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, mode)
            try check(remaining)
            try sink(UnsafeRawBufferPointer(rebasing: buffer[..<out.pos]))
            return remaining
        }
    }

    private func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw ArchiveError("zstd: \(String(cString: ZSTD_getErrorName(code)))")
        }
    }
}
