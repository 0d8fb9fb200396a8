/// One chunk of a chunked release's content: what it holds (the SHA-512 and size of its
/// bytes, which a node checks whatever gave it the bytes) and where shacache stores it
/// (the address and size of its zstd frame).
public struct ChunkReference: Sendable, Hashable {
    public let sha512: String
    public let size: Int
    public let blob: String
    public let blobSize: Int

    public init(sha512: String, size: Int, blob: String, blobSize: Int) {
        self.sha512 = sha512
        self.size = size
        self.blob = blob
        self.blobSize = blobSize
    }
}
