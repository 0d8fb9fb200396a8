import NetcacheProtocol

/// One `info` text and every signature filed for it under one key.
///
/// shadir holds one signature per entry; a second signer of the same content (`cosign`, a
/// second root) files the same `info` again with its own signature. Thresholds count the
/// distinct trusted keys among all of them.
public struct SignedStatement: Sendable {
    public let key: String
    public let info: String
    public var signatures: [String]

    public init(key: String, info: String, signatures: [String]) {
        self.key = key
        self.info = info
        self.signatures = signatures
    }

    /// The entries of a listing grouped by identical `info`, in the order each first appears.
    public static func group(_ entries: [ShadirEntry], under key: String) -> [SignedStatement] {
        var statements: [SignedStatement] = []
        var seen: [Set<String>] = []
        var position: [String: Int] = [:]
        for entry in entries {
            if let index = position[entry.info] {
                if seen[index].insert(entry.signature).inserted { statements[index].signatures.append(entry.signature) }
            } else {
                position[entry.info] = statements.count
                statements.append(SignedStatement(key: key, info: entry.info, signatures: [entry.signature]))
                seen.append([entry.signature])
            }
        }
        return statements
    }

    /// Adds the signatures it does not hold yet, in order.
    public mutating func merge(_ more: [String]) {
        var known = Set(signatures)
        for signature in more where known.insert(signature).inserted { signatures.append(signature) }
    }

    public var fields: JSONObject? {
        try? JSONValue(parsing: info).objectValue
    }

    /// The entries as shadir holds them, one per signature.
    public var entries: [ShadirEntry] {
        signatures.map { ShadirEntry(info: info, signature: $0) }
    }
}
