/// Where a fetched file came from.
public enum FetchSource: Sendable, Equatable {
    /// A trusted entry's blob.
    case cache(sha512: String)
    /// The origin; `filed` says whether it was then uploaded and indexed.
    case origin(sha512: String, filed: Bool)
}
