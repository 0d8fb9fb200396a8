/// An answer of the object store that is not the XML S3 documents.
struct S3XMLError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the object store's answer is not S3 XML: \(reason)" }
}
