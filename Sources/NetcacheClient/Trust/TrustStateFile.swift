import Foundation
import NetcacheProtocol

/// What a node remembers between lookups (`trust-state-file`): per chain of roots, the
/// newest trust document it accepted, whole, with its signatures. A cache that later serves
/// an older one, however validly signed, is refused as a rollback; after a root rotation
/// the chain goes on from the remembered document's roots.
///
/// Written to a sibling, synced and renamed over the name, under a lock beside it: a crash
/// leaves the old state or the new one, and two installs never lower each other's version.
public struct TrustStateFile: Sendable {
    public let path: String

    public struct Record: Sendable {
        public var statement: SignedStatement
        public var document: TrustDocument
        public var acceptedAt: Date
    }

    public init(path: String) {
        self.path = path
    }

    /// The remembered document of `chain`, or `nil` when none was accepted yet.
    public func record(of chain: String) throws -> Record? {
        guard let object = try read()[chain]?.objectValue else { return nil }
        guard let info = object["info"]?.stringValue, let signatures = object["signatures"]?.arrayValue?.compactMap(\.stringValue),
            let acceptedAt = object["accepted_at"]?.stringValue.flatMap(TrustDate.parse)
        else { throw TrustDocumentError("trust-state-file \(path): its record of chain \(chain.prefix(12)) is damaged; remove the file to start again") }
        let statement = SignedStatement(key: object["key"]?.stringValue ?? "", info: info, signatures: signatures)
        guard let document = try TrustDocument(statement: statement) else {
            throw TrustDocumentError("trust-state-file \(path): its record of chain \(chain.prefix(12)) is not a trust document")
        }
        return Record(statement: statement, document: document, acceptedAt: acceptedAt)
    }

    /// Records `statement` as the newest document of `chain`, unless a newer one was
    /// recorded meanwhile.
    public func remember(_ statement: SignedStatement, version: Int, of chain: String, at now: Date) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw TrustDocumentError("cannot create the directory of trust-state-file \(path): \(Self.reason(error))")
            }
        }
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw TrustDocumentError("cannot lock trust-state-file \(path): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw TrustDocumentError("cannot lock trust-state-file \(path): \(String(cString: strerror(errno)))") }
        }
        var chains = try read()
        if case .integer(let recorded)? = chains[chain]?.objectValue?["version"], recorded >= version { return }
        chains[chain] = .object(JSONObject([
            ("version", .integer(version)),
            ("key", .string(statement.key)),
            ("info", .string(statement.info)),
            ("signatures", .array(statement.signatures.map(JSONValue.string))),
            ("accepted_at", .string(TrustDate.format(now))),
        ]))
        do {
            let file = try OutputFile(path: path)
            let text = JSONValue.object(JSONObject([("chains", .object(chains))])).pythonIndentedSortedJSON + "\n"
            try Array(text.utf8).withUnsafeBytes { try file.write($0) }
            try file.commit()
        } catch {
            throw TrustDocumentError("cannot record trust state in \(path): \(error); set trust-state-file in [networkcache] to a file this user may write")
        }
    }

    private func read() throws -> JSONObject {
        var status = stat()
        if lstat(path, &status) != 0 && errno == ENOENT { return JSONObject() }
        let bytes: [UInt8]
        do {
            bytes = try fileContents(path)
        } catch {
            throw TrustDocumentError("cannot read trust-state-file \(path): \(error)")
        }
        guard let chains = (try? JSONValue(parsing: bytes))?.objectValue?["chains"]?.objectValue else {
            throw TrustDocumentError("trust-state-file \(path) is damaged; remove it to start again (the next lookup accepts the cache's newest document)")
        }
        return chains
    }

    private static func reason(_ error: any Error) -> String {
        ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) } ?? "\(error)"
    }
}
