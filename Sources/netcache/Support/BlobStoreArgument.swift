import ArgumentParser
import NetcacheServer

/// A `--*-store` value: an S3 bucket, or a data directory.
enum BlobStoreArgument: ExpressibleByArgument {
    case s3(S3Location)
    case dataDirectory(String)

    init?(argument: String) {
        if argument.hasPrefix("s3://") {
            guard let location = S3Location(argument) else { return nil }
            self = .s3(location)
        } else {
            self = .dataDirectory(argument)
        }
    }
}
