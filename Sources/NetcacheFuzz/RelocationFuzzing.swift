import BinaryCache
import NetcacheProtocol

/// The `relocation-entry` target: an entry that a trusted key signed may still be
/// anything, so install's decisions on it must end in a verdict, never a crash.
enum RelocationFuzzing {
    /// Local roots shorter than, equal to and longer than any a seed was built under.
    static let machines = ["/srv/sr", "/opt/slapgrid", "/srv/slapgrid/software-root-longer-than-most"].map { root in
        Fingerprint(os: OSRelease(id: "debian", version: "12", codename: "bookworm"), multiarch: "x86_64-linux-gnu", libc: ["glibc", "2.36"], softwareRoot: root)
    }

    static func run(_ input: [UInt8]) {
        let split = input.firstIndex(of: 0) ?? input.endIndex
        guard let fields = (try? JSONValue(parsing: input[..<split]))?.objectValue, let entry = BinaryEntry(fields: fields, legacyKey: false) else {
            return
        }
        let manifest = split < input.endIndex ? input[(split + 1)...] : []
        for machine in machines {
            let compatibility = Compatibility(entry: entry, machine: machine)
            let planned: RelocationPlan?
            do {
                planned = try RelocationPlan.make(for: entry, to: machine.softwareRoot)
            } catch {
                precondition(!compatibility.isCompatible, "compatibility accepted an entry that cannot move here: \(error)")
                continue
            }
            guard let plan = planned else { continue }
            for line in manifest.split(separator: UInt8(ascii: "\n")) {
                guard let item = try? RelocationManifest.item(parsing: line) else { continue }
                precondition(!item.path.components.contains { $0.isEmpty || $0 == "." || $0 == ".." }, "a manifest path leaves the tree")
                for offset in item.offsets {
                    _ = plan.rewrite.isOccurrence(in: line[...], at: line.startIndex + min(offset, line.count), startsFile: offset == 0)
                }
            }
        }
    }
}
