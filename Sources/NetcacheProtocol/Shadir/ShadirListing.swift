/// The answer to `GET /shadir/<key>`: every entry of a key, in insertion order.
public enum ShadirListing {
    /// Parses a listing into entries, keeping `info` exactly as served.
    /// Elements that are not `[string, string]` pairs are dropped, as upstream skips them.
    public static func parse(_ body: some Collection<UInt8>) throws(JSONParseError) -> [ShadirEntry] {
        guard case .array(let elements) = try JSONValue(parsing: body) else {
            throw JSONParseError(reason: "a shadir listing must be a JSON array", offset: 0)
        }
        return elements.compactMap { element in
            guard let pair = element.arrayValue, pair.count == 2,
                let info = pair[0].stringValue, let signature = pair[1].stringValue
            else { return nil }
            return ShadirEntry(info: info, signature: signature)
        }
    }

    /// Joins stored PUT bodies (each a validated `[info, signature]` array) into one listing.
    public static func render(bodies: [String]) -> String {
        "[" + bodies.joined(separator: ", ") + "]"
    }
}
