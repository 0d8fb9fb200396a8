/// How install decides that a netcache entry runs here (`binary-cache-compatibility`).
/// Legacy entries, which record no `abi`, keep SlapOS's rule whatever this says.
public enum CompatibilityRule: String, Sendable, CaseIterable {
    /// SlapOS's: the same distribution (name and major version).
    case distribution
    /// What the binaries need: every library they need from outside the tree is found by
    /// this machine's loader and defines every version they need of it.
    case abi
}
