import Foundation
import NetcacheClient

/// An S3 access key, found where every S3 tool looks: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, or a shared credentials file
/// (`~/.aws/credentials` syntax) named by `--s3-credentials-file`.
public struct S3Credentials: Sendable {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// From the environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw ServerConfigurationError("an S3 store needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --s3-credentials-file")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }

    /// From the `profile` section (`AWS_PROFILE`, else `default`) of a shared credentials file.
    public static func fromFile(_ path: String, profile: String? = nil) throws -> S3Credentials {
        let text: String
        do {
            text = try fileText(path)
        } catch {
            throw ServerConfigurationError("cannot read --s3-credentials-file \(path): \(error)")
        }
        // Set but empty counts as unset, as for the key variables.
        let profile = profile ?? ProcessInfo.processInfo.environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let file = try INIFile(text: text, origin: path)
        guard let key = file.value("aws_access_key_id", in: profile), let secret = file.value("aws_secret_access_key", in: profile) else {
            throw ServerConfigurationError("\(path): no aws_access_key_id and aws_secret_access_key in [\(profile)]")
        }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: file.value("aws_session_token", in: profile))
    }
}
