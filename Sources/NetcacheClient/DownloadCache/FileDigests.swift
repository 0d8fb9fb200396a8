import NetcacheProtocol

/// The digests of a file, computed in one pass while it streams.
struct FileDigests {
    let md5: String
    let sha256: String
    let sha512: String

    /// Feeds every digest.
    final class Accumulator {
        private let md5 = StreamingDigest.md5()
        private let sha256 = StreamingDigest.sha256()
        private let sha512 = StreamingDigest.sha512()

        func update(_ bytes: UnsafeRawBufferPointer) {
            md5.update(bytes)
            sha256.update(bytes)
            sha512.update(bytes)
        }

        func finalize() -> FileDigests {
            FileDigests(md5: md5.finalize(), sha256: sha256.finalize(), sha512: sha512.finalize())
        }
    }
}
