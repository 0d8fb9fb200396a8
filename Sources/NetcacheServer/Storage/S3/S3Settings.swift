import Foundation

/// `--store s3://...` and the options that go with it.
public struct S3Settings: Sendable {
    public var location: S3Location
    /// Path-style requests go to `<endpoint>/<bucket>/<key>`.
    public var endpoint: URL
    public var region: String
    public var credentials: S3Credentials
    /// Multipart uploads older than this were left by a server that died mid-upload, and are
    /// aborted; no blob upload from staging takes anywhere near as long.
    public var abandonedUploadAge: Duration

    public init(location: S3Location, endpoint: URL?, region: String = "us-east-1", credentials: S3Credentials, abandonedUploadAge: Duration = .seconds(3600)) {
        self.location = location
        self.endpoint = endpoint ?? URL(string: "https://s3.\(region).amazonaws.com")!
        self.region = region
        self.credentials = credentials
        self.abandonedUploadAge = abandonedUploadAge
    }
}
