import CZstd

/// One whole zstd frame in memory: a chunk of a chunked release, or its index. Small
/// enough (a chunk is at most 256 KiB) that streaming would only add copies.
///
/// Frames record their content size, so that a reader allocates what the frame says,
/// checked against what the signed index allows, before it decompresses a byte.
public enum ZstdFrame {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Level 3, one thread: the same bytes give the same frame with this libzstd, so that a
    /// chunk stored once is found again by its address.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = 3) throws(Failure) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress, bound, bytes.baseAddress, bytes.count, level) }
        guard ZSTD_isError(written) == 0 else { throw Failure(description: "zstd: \(String(cString: ZSTD_getErrorName(written)))") }
        output.removeSubrange(written...)
        return output
    }

    /// The frame's content, which must be exactly `size` bytes when `size` is given, and
    /// at most `limit` bytes in any case.
    public static func decompress(_ frame: UnsafeRawBufferPointer, size: Int? = nil, limit: Int) throws(Failure) -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR, macros Swift does not import.
        guard declared < UInt64.max - 1 else { throw Failure(description: "not a zstd frame that records its size") }
        guard declared <= UInt64(limit), size.map({ UInt64($0) == declared }) ?? true else {
            throw Failure(description: "zstd frame of \(declared) bytes where \(size.map(String.init) ?? "at most \(limit)") were expected")
        }
        let count = Int(declared)
        var output = [UInt8](repeating: 0, count: count)
        let written = output.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, count, frame.baseAddress, frame.count) }
        guard ZSTD_isError(written) == 0 else { throw Failure(description: "zstd: \(String(cString: ZSTD_getErrorName(written)))") }
        guard written == count else { throw Failure(description: "zstd frame shorter than it says (\(written) of \(count) bytes)") }
        return output
    }
}
