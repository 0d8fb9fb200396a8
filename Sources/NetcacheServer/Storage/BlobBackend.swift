/// Where blobs go: the data directory (the default), or an S3 bucket.
public enum BlobBackend: Sendable {
    case dataDirectory
    case s3(S3Settings)
}
