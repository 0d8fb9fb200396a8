import FoundationEssentials
import NetcacheProtocol

/// What a node trusts after reading the roots' documents from a cache.
public struct ResolvedTrust: Sendable {
    public let chainID: String
    /// The newest document that chains from the configured roots (or the remembered one).
    public let document: TrustDocument?
    public let statement: SignedStatement?
    /// The newest valid timestamp, when the document delegates a timestamp role.
    public let timestamp: TrustTimestamp?
    /// The version this node had accepted before this lookup.
    public let rememberedVersion: Int?
    /// Why nothing is trusted: no document, a stale timestamp, a rollback.
    public let refusal: String?
}

/// Reads the roots' trust documents from shadir and follows them, TUF-style: version N+1
/// counts only when signed by a threshold of version N's roots and of its own, so a root
/// rotation needs the old roots' consent; a version lower than the one remembered is a
/// rollback; a document whose timestamps all expired is stale.
public struct TrustChain {
    public let settings: TrustSettings
    /// The entries filed under a shadir key (none for an unknown key).
    public let fetch: (String) throws -> [ShadirEntry]

    public init(settings: TrustSettings, fetch: @escaping (String) throws -> [ShadirEntry]) {
        self.settings = settings
        self.fetch = fetch
    }

    /// Every document and timestamp under the keys of `roots`, signatures merged across keys,
    /// each parsed once however often the chain is walked.
    private struct Listing {
        var fetched: Set<String> = []
        var statements: [SignedStatement] = []
        private var position: [String: Int] = [:]
        private(set) var documents: [(document: TrustDocument, statement: SignedStatement)] = []

        mutating func add(roots: CertificateList, fetch: (String) throws -> [ShadirEntry]) throws {
            for key in roots.keys.map({ TrustKeys.key(forRoot: $0.keyID) }) where !fetched.contains(key) {
                fetched.insert(key)
                for statement in SignedStatement.group(try fetch(key), under: key) {
                    if let index = position[statement.info] {
                        statements[index].merge(statement.signatures)
                    } else {
                        position[statement.info] = statements.count
                        statements.append(statement)
                    }
                }
            }
            documents = statements.compactMap { statement in
                guard let document = (try? TrustDocument(statement: statement)) ?? nil else { return nil }
                return (document, statement)
            }.sorted { $0.document.version < $1.document.version }
        }
    }

    /// Counts only modern signatures: no Python tool reads trust documents.
    static func signed(_ statement: SignedStatement, by roots: CertificateList, threshold: Int) -> Bool {
        roots.signers(of: statement.info, signatures: statement.signatures).filter { $0.scheme.isModern }.count >= threshold
    }

    /// Follows the chain and records the version reached. `remember: false` reads only
    /// (`trust show` on a machine that is not a node).
    public func resolve(at now: Date, remember: Bool = true) throws -> ResolvedTrust {
        let state = TrustStateFile(path: settings.stateFile)
        let chainID = settings.chainID
        let record = try state.record(of: chainID)
        var roots = record?.document.roots ?? settings.roots
        var threshold = record?.document.rootThreshold ?? settings.rootThreshold
        var current = record.map { (document: $0.document, statement: $0.statement) }
        var listing = Listing()
        try listing.add(roots: roots, fetch: fetch)
        while true {
            let version = current?.document.version ?? 0
            let next = listing.documents.filter { $0.document.version > version }.first { candidate in
                Self.signed(candidate.statement, by: roots, threshold: threshold)
                    && Self.signed(candidate.statement, by: candidate.document.roots, threshold: candidate.document.rootThreshold)
            }
            guard let next else { break }
            current = next
            roots = next.document.roots
            threshold = next.document.rootThreshold
            try listing.add(roots: roots, fetch: fetch)
        }
        func result(_ refusal: String?, timestamp: TrustTimestamp? = nil) -> ResolvedTrust {
            ResolvedTrust(
                chainID: chainID, document: current?.document, statement: current?.statement, timestamp: timestamp,
                rememberedVersion: record?.document.version, refusal: refusal)
        }
        let served = listing.documents.map(\.document.version).max()
        guard let current else {
            let where_ = settings.roots.keys.map { TrustKeys.key(forRoot: $0.keyID) }.joined(separator: ", ")
            let found = served.map { "; the cache holds version \($0), not signed by \(settings.rootThreshold) of signature-root-list" } ?? ""
            return result("no trust document signed by signature-root-list under \(where_)\(found); a root publishes one with `netcache trust delegate`")
        }
        if let record, current.document.version == record.document.version, !listing.statements.contains(where: { $0.info == record.statement.info }) {
            let holds = served.map { "version \($0) at most" } ?? "no trust document"
            return result("rollback refused: the cache serves \(holds), older than version \(record.document.version) this node accepted on \(TrustDate.format(record.acceptedAt))")
        }
        if remember, current.document.version > record?.document.version ?? 0 {
            try state.remember(current.statement, version: current.document.version, of: chainID, at: now)
        }
        return try freshness(of: current.document, statement: current.statement, in: listing.statements, at: now, result: result)
    }

    private func freshness(
        of document: TrustDocument, statement: SignedStatement, in statements: [SignedStatement], at now: Date,
        result: (String?, TrustTimestamp?) -> ResolvedTrust
    ) throws -> ResolvedTrust {
        let stampers = document.signers.filter { $0.role == .timestamp && $0.expires > now }
        let delegated = document.signers.contains { $0.role == .timestamp }
        guard delegated else { return result(nil, nil) }
        let list = CertificateList(keys: stampers.map(\.key), certificates: stampers.map(\.certificate), skipped: [])
        let documentSHA512 = StreamingDigest.sha512Hex(of: Array(statement.info.utf8))
        var newest: TrustTimestamp?
        for candidate in statements {
            guard let stamp = (try? TrustTimestamp(statement: candidate)) ?? nil,
                list.signers(of: candidate.info, signatures: candidate.signatures).contains(where: { $0.scheme.isModern })
            else { continue }
            if stamp.documentVersion > document.version {
                return result("the cache withholds trust document version \(stamp.documentVersion), which a timestamp of \(TrustDate.format(stamp.issuedAt)) names; it serves version \(document.version)", nil)
            }
            if stamp.documentVersion == document.version && stamp.documentSHA512 != documentSHA512 { continue }
            if newest.map({ stamp.expires > $0.expires }) ?? true { newest = stamp }
        }
        guard let newest else {
            return result("no valid timestamp for trust document version \(document.version): it delegates a timestamp role, whose key must run `netcache trust timestamp`", nil)
        }
        guard newest.expires > now else {
            return result("stale trust document: the newest timestamp (version \(newest.documentVersion)) expired on \(TrustDate.format(newest.expires)); nothing is trusted until the timestamp key signs again", newest)
        }
        return result(nil, newest)
    }
}
