import COpenSSL
import FoundationEssentials

/// A streaming message digest, OpenSSL's. Blobs are addressed by SHA-512 and checked while
/// they stream; release directories and download keys are named by the MD5 of a URL.
///
/// Owns its OpenSSL context; feed it with `update` and read the result once with `finalize`.
public final class StreamingDigest {
    private let context: OpaquePointer
    private let size: Int

    public static func sha512() -> StreamingDigest { StreamingDigest(EVP_sha512(), size: 64) }
    public static func md5() -> StreamingDigest { StreamingDigest(EVP_md5(), size: 16) }
    /// Package indexes name files by SHA-256 (`#sha256=` in PEP 503 links).
    public static func sha256() -> StreamingDigest { StreamingDigest(EVP_sha256(), size: 32) }

    private init(_ algorithm: OpaquePointer?, size: Int) {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm, nil) == 1 else {
            fatalError("OpenSSL cannot start a digest")
        }
        self.context = context
        self.size = size
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The lowercase hex digest, as shacache addresses and shadir keys are written.
    public func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return hexString(digest)
    }
}

extension StreamingDigest {
    public static func sha512Hex(of bytes: some ContiguousBytes) -> String {
        let digest = StreamingDigest.sha512()
        digest.update(bytes)
        return digest.finalize()
    }

    /// `hashlib.md5(url.encode()).hexdigest()`: the release directory and `file-urlmd5:` key.
    public static func md5Hex(of text: String) -> String {
        let digest = StreamingDigest.md5()
        digest.update(Array(text.utf8))
        return digest.finalize()
    }
}

/// Bytes as lowercase hex.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// Whether `text` is a SHA-512 address: exactly 128 hex characters.
public func isSHA512Hex(_ text: some StringProtocol) -> Bool {
    text.utf8.count == 128 && text.utf8.allSatisfy { hexDigitValue($0) != nil }
}
