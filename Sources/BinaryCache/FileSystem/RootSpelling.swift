/// software_root in one spelling, so that roots are compared, and occurrences searched, in
/// one form: `/a/root/`, `/a//root` and `/a/./root` are all `/a/root`. `..` is kept: what it
/// means depends on symlinks, and comparing it by name must not make two roots one.
public func normalisedRoot(_ path: String) -> String {
    let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
    let joined = components.joined(separator: "/")
    guard path.hasPrefix("/") else { return joined }
    return "/" + joined
}
