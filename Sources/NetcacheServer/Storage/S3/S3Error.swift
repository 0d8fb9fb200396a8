/// An object store that refused or failed a request, with what it said.
public struct S3Error: Error, CustomStringConvertible {
    public let status: Int
    public let code: String?
    public let request: String

    public var description: String {
        "S3 \(request): HTTP \(status)" + (code.map { " \($0)" } ?? "")
    }
}
