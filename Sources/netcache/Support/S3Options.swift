import ArgumentParser
import Foundation
import NetcacheServer

/// How to reach an S3 store: the options `serve --store` and `migrate` share.
struct S3Options: ParsableArguments {
    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("The S3 API's URL; requests are path-style, <url>/<bucket>/<key> (default: AWS's, https://s3.<region>.amazonaws.com).", valueName: "url"))
    var endpoint: String?

    @Option(name: .customLong("s3-region"), help: ArgumentHelp("The region requests are signed for.", valueName: "name"))
    var region = "us-east-1"

    @Option(name: .customLong("s3-credentials-file"), help: ArgumentHelp("A shared credentials file (~/.aws/credentials syntax; section AWS_PROFILE or default) instead of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.", valueName: "file"))
    var credentialsFile: String?

    @Option(name: .customLong("s3-abandoned-upload-age"), help: ArgumentHelp("Seconds after which a multipart upload under the prefix counts as left by a dead server, and is aborted.", valueName: "seconds"))
    var abandonedUploadAge = 3600

    func validate() throws {
        if let endpoint, URL(string: endpoint)?.host == nil || !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ValidationError("--s3-endpoint takes an http:// or https:// URL")
        }
        if abandonedUploadAge < 1 { throw ValidationError("--s3-abandoned-upload-age takes a number of seconds, 1 or more") }
    }

    func settings(for location: S3Location) throws -> S3Settings {
        let credentials = try credentialsFile.map { try S3Credentials.fromFile($0) } ?? S3Credentials.fromEnvironment()
        return S3Settings(
            location: location, endpoint: endpoint.flatMap(URL.init(string:)), region: region, credentials: credentials,
            abandonedUploadAge: .seconds(abandonedUploadAge))
    }
}
