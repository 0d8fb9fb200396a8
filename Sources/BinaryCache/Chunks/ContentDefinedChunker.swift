/// Cuts a byte stream into chunks where its content says, so that an insertion moves only
/// the boundaries around it: FastCDC (Xia et al., USENIX ATC 2016), with normalised
/// chunking at level 2, chunks of 16 KiB to 256 KiB averaging 64 KiB, as attic uses.
///
/// FastCDC rather than buzhash: its rolling hash is one shift and one add per byte (no
/// byte leaving the window to subtract), it skips the first 16 KiB of each chunk, and
/// normalised chunking narrows the spread of sizes, so fewer tiny and fewer maximal chunks.
/// The gear table and masks are part of the format: changing them changes every chunk.
final class ContentDefinedChunker {
    static let minimum = 16 << 10
    static let average = 64 << 10
    static let maximum = 256 << 10
    /// Below the average size a cut needs 18 zero bits, above it 14.
    private static let strictMask: UInt64 = 0xFFFF_C000_0000_0000
    private static let looseMask: UInt64 = 0xFFFC_0000_0000_0000

    /// 256 pseudo-random words from SplitMix64 seeded with 0x6E65_7463_6163_6865 ("netcache").
    static let gear: [UInt64] = {
        var state: UInt64 = 0x6E65_7463_6163_6865
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }()

    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximum, alignment: 16)
    private var count = 0

    deinit {
        buffer.deallocate()
    }

    /// Adds bytes; `emit` gets each chunk completed, valid only during the call.
    func append(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, Self.maximum - count)
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(count + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            count += take
            offset += take
            if count == Self.maximum { try emitOne(emit) }
        }
    }

    /// Emits what is left.
    func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        while count > 0 { try emitOne(emit) }
    }

    private func emitOne(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let cut = Self.cut(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        try emit(UnsafeRawBufferPointer(rebasing: buffer[..<cut]))
        if cut < count {
            // The regions may overlap: copyMemory moves.
            UnsafeMutableRawBufferPointer(rebasing: buffer[..<(count - cut)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[cut..<count]))
        }
        count -= cut
    }

    /// Where the first chunk of `data` ends.
    static func cut(_ data: UnsafeRawBufferPointer) -> Int {
        let length = min(data.count, maximum)
        guard length > minimum else { return length }
        var hash: UInt64 = 0
        var index = minimum
        let barrier = min(average, length)
        return gear.withUnsafeBufferPointer { gear in
            while index < barrier {
                hash = (hash << 1) &+ gear[Int(data[index])]
                index += 1
                if hash & strictMask == 0 { return index }
            }
            while index < length {
                hash = (hash << 1) &+ gear[Int(data[index])]
                index += 1
                if hash & looseMask == 0 { return index }
            }
            return length
        }
    }
}
