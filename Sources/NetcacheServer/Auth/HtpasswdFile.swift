import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Upload credentials from an htpasswd-style file: `user:$2y$...` lines, bcrypt only.
public struct HtpasswdFile: Sendable {
    private let hashes: [String: String]

    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerConfigurationError("cannot read basic auth file \(path): \(error.localizedDescription)")
        }
        var hashes: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw ServerConfigurationError("\(path):\(number + 1): expected user:bcrypt-hash")
            }
            let hash = String(trimmed[trimmed.index(after: colon)...])
            guard hash.hasPrefix("$2") else {
                throw ServerConfigurationError("\(path):\(number + 1): only bcrypt hashes ($2y$...) are supported")
            }
            hashes[String(trimmed[..<colon])] = hash
        }
        guard !hashes.isEmpty else { throw ServerConfigurationError("\(path): no user in basic auth file") }
        self.hashes = hashes
    }

    /// Checks a user and password; bcrypt is slow on purpose, so it runs off the event loops.
    public func verify(user: String, password: String) async -> Bool {
        guard let hash = hashes[user] else { return false }
        return (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }) ?? false
    }
}
