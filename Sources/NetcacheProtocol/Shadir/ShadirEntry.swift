import FoundationEssentials

/// One shadir entry: the `[info, signature]` pair a client PUTs under a key.
///
/// `info` is kept as the exact text received: signatures cover those bytes, so nothing
/// may re-serialise it.
public struct ShadirEntry: Sendable, Hashable {
    public let info: String
    public let signature: String

    public init(info: String, signature: String) {
        self.info = info
        self.signature = signature
    }

    /// Parses and validates a PUT body the way the production server does: a JSON array of
    /// exactly two strings, `info` a JSON object whose `sha512` is 128 hex characters, and a
    /// signature that is base64 (empty for unsigned entries).
    public init(validatingBody body: some Collection<UInt8>) throws(ShadirEntryError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw ShadirEntryError("body is not JSON: \(error)")
        }
        guard let pair = document.arrayValue else {
            throw ShadirEntryError("body must be a JSON array [info, signature]")
        }
        guard pair.count == 2 else {
            throw ShadirEntryError("body must have exactly 2 elements [info, signature], not \(pair.count)")
        }
        guard let info = pair[0].stringValue, let signature = pair[1].stringValue else {
            throw ShadirEntryError("info and signature must both be strings")
        }
        guard let fields = try? JSONValue(parsing: info).objectValue else {
            throw ShadirEntryError("info must be a JSON object serialised as a string")
        }
        guard let sha512 = fields["sha512"]?.stringValue, isSHA512Hex(sha512) else {
            throw ShadirEntryError("info must hold a sha512 of 128 hexadecimal characters")
        }
        guard Self.decodeSignature(signature) != nil else {
            throw ShadirEntryError("signature is not valid base64")
        }
        self.init(info: info, signature: signature)
    }

    /// The `info` fields, or `nil` when `info` is not a JSON object.
    public var fields: JSONObject? {
        try? JSONValue(parsing: info).objectValue
    }

    /// The signature bytes. Older entries wrap base64 every 76 characters: whitespace is ignored.
    public var signatureBytes: Data? {
        Self.decodeSignature(signature)
    }

    /// The body to PUT: `json.dumps([info, signature])`, as the Python client sends it.
    public var body: String {
        JSONValue.array([.string(info), .string(signature)]).pythonJSON
    }

    public static func decodeSignature(_ text: String) -> Data? {
        let compact = text.filter { !$0.isWhitespace }
        return Data(base64Encoded: compact)
    }
}

/// Why a shadir body was refused; the reason goes back to the client with the 400.
public struct ShadirEntryError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
