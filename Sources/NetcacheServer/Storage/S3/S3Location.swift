/// Where blobs go in an object store: `s3://BUCKET[/PREFIX]`. Each blob is the object
/// `PREFIX/<sha512>`.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public let bucket: String
    /// Empty, or ending in `/`.
    public let prefix: String

    public init?(_ text: String) {
        guard text.hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst("s3://".count)
        let bucket = rest.prefix { $0 != "/" }
        // Bucket names as S3 allows them, which keeps them out of any need of escaping.
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            return nil
        }
        self.bucket = String(bucket)
        let path = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        prefix = path.isEmpty ? "" : path + "/"
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/" + prefix.dropLast()) }

    func key(for sha512: String) -> String { prefix + sha512 }
}
