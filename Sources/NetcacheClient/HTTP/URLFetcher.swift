import Foundation

/// Fetches a file from its origin (any URL libcurl reads: http, https, ftp, file), with
/// redirects followed. An HTTP answer other than 200 is an error, never content.
public enum URLFetcher {
    /// Streams the body to `sink`.
    public static func fetch(_ url: String, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var sinkError: (any Error)?
        var request = HTTPRequest(method: "GET", url: url)
        request.followRedirects = true
        // HTTP says in its status whether the body is the file; FTP and the others fail the
        // transfer instead, and end with codes of their own (226 for FTP).
        let isHTTP = url.lowercased().hasPrefix("http")
        let head = try CurlEasy().perform(request) { head, chunk in
            guard !isHTTP || head.status == 200 else { return false }
            do { try sink(chunk) } catch {
                sinkError = error
                return false
            }
            return true
        }
        if let sinkError { throw sinkError }
        guard !isHTTP || head.status == 200 else {
            throw HTTPClientError(.status(head.status), method: "GET", url: url, detail: "")
        }
    }

    /// Writes the body to `path`, which must not exist yet; nothing is left there on failure.
    public static func fetch(_ url: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileWriteError("cannot create \(path)", errno: errno) }
        var isOpen = true
        var completed = false
        defer {
            if isOpen { close(descriptor) }
            if !completed { unlink(path) }
        }
        try fetch(url) { bytes in
            if let code = writeFully(descriptor, bytes) { throw FileWriteError("cannot write \(path)", errno: code) }
        }
        isOpen = false
        guard close(descriptor) == 0 else { throw FileWriteError("cannot write \(path)", errno: errno) }
        completed = true
    }
}
