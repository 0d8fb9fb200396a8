import Foundation

/// Fetches a file from its origin (any URL libcurl reads: http, https, ftp, file).
public enum URLFetcher {
    /// Writes the body to `path`, which must not exist yet; nothing is left there on failure.
    public static func fetch(_ url: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = FileHandle(forWritingAtPath: path)
        else { throw ConfigurationError("cannot create \(path)") }
        var completed = false
        defer {
            try? output.close()
            if !completed { try? FileManager.default.removeItem(atPath: path) }
        }
        var writeError: (any Error)?
        var request = HTTPRequest(method: "GET", url: url)
        request.followRedirects = true
        // HTTP says in its status whether the body is the file; FTP and the others fail the
        // transfer instead, and end with codes of their own (226 for FTP).
        let isHTTP = url.lowercased().hasPrefix("http")
        let head = try CurlEasy().perform(request) { head, chunk in
            guard !isHTTP || head.status == 200 else { return false }
            do { try output.write(contentsOf: chunk) } catch {
                writeError = error
                return false
            }
            return true
        }
        if let writeError { throw ConfigurationError("cannot write \(path): \(writeError.localizedDescription)") }
        guard !isHTTP || head.status == 200 else {
            throw HTTPClientError(.status(head.status), method: "GET", url: url, detail: "")
        }
        completed = true
    }
}
