import Foundation
import HummingbirdBcrypt
import NIOPosix
import NetcacheClient

/// Upload credentials from an htpasswd-style file: `user:$2y$...` lines, bcrypt only.
public struct HtpasswdFile: Sendable {
    private let hashes: [String: String]
    /// What an unknown user's password is checked against: a hash of the file's highest
    /// cost, so that an unknown name costs one bcrypt like a wrong password, and answers no
    /// faster than any user's (which would tell an attacker which names exist).
    private let unknownUserHash: String
    /// The cost `unknownUserHash` was made with, for the tests of that.
    var unknownUserCost: Int? { Self.cost(of: unknownUserHash) }
    /// bcrypt checks done, for the tests of that.
    let verifications = ByteCounter()

    /// bcrypt is slow on purpose: it runs on threads of its own, so that a flood of wrong
    /// passwords waits for them and never for the threads that serve downloads.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    public init(path: String) throws {
        let text: String
        do {
            text = try fileText(path)
        } catch {
            throw ServerConfigurationError("cannot read basic auth file \(path): \(error)")
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
        let cost = hashes.values.compactMap(Self.cost(of:)).max() ?? 12
        unknownUserHash = Bcrypt.hash(UUID().uuidString, cost: UInt8(cost))
    }

    /// "$2y$12$...": the two digits after the second "$", if bcrypt takes them.
    private static func cost(of hash: String) -> Int? {
        let fields = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count > 2, let cost = Int(fields[2]), (4...31).contains(cost) else { return nil }
        return cost
    }

    /// Checks a user and password, off the event loops.
    public func verify(user: String, password: String) async -> Bool {
        let known = hashes[user]
        let hash = known ?? unknownUserHash
        let verifications = verifications
        let matches = (try? await Self.pool.runIfActive {
            verifications.add(1)
            return Bcrypt.verify(password, hash: hash)
        }) ?? false
        return known != nil && matches
    }
}
