import COpenSSL

/// An OpenSSL failure, with OpenSSL's own message.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    public let description: String

    /// Takes the newest error of this thread's OpenSSL error queue, and clears the queue.
    public init(_ context: String) {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else {
            description = context
            return
        }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let message = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        description = "\(context): \(String(decoding: message, as: UTF8.self))"
    }
}

/// An OpenSSL memory BIO over bytes, freed when done.
public func withMemoryBIO<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> Result) throws -> Result {
    try bytes.withUnsafeBytes { buffer in
        guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
            throw OpenSSLError("cannot allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        return try body(bio)
    }
}

/// Reads what OpenSSL wrote into a memory BIO.
public func withWritableBIO(_ body: (OpaquePointer) throws -> Void) throws -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError("cannot allocate a memory BIO") }
    defer { BIO_free(bio) }
    try body(bio)
    var data: UnsafeMutablePointer<CChar>?
    let length = netcache_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
}
