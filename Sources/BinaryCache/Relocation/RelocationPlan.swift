/// How an entry's tree moves to this machine's software_root, decided from the signed
/// entry alone, before anything is fetched.
public struct RelocationPlan: Sendable, Equatable {
    public let rewrite: RootRewrite
    /// The manifest to fetch; `nil` when the tree names its root nowhere.
    public let manifest: RelocationRecord.ManifestBlob?

    /// `nil` when the entry was built under `softwareRoot` (or does not say where). Throws
    /// for an entry that cannot move there: compatibility refuses those already, and this
    /// says it again rather than trusting that it did.
    public static func make(for entry: BinaryEntry, to softwareRoot: String) throws(RelocationRefused) -> RelocationPlan? {
        let root = normalisedRoot(softwareRoot)
        guard let built = try entry.builtUnder(), built != root else { return nil }
        guard let record = entry.relocation, record.from == built, record.isRelocatable else {
            throw RelocationRefused("built under \(built), and not relocatable to \(root)")
        }
        return RelocationPlan(rewrite: try RootRewrite(from: built, to: root), manifest: record.manifest)
    }
}
