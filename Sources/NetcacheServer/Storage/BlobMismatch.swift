/// Bytes that were to be a given blob hash to another address: they are not kept.
struct BlobMismatch: Error, CustomStringConvertible {
    let expected: String
    let actual: String

    var description: String { "the bytes hash to \(actual.prefix(16))…, not \(expected.prefix(16))…" }
}
