import Foundation

/// Reads every ELF file of a release while it is packed, and works out what the tree needs
/// from outside: each DT_NEEDED that its file's RUNPATH (or RPATH) does not find inside the
/// tree, `$ORIGIN` expanded, with the versions needed of it.
final class ABIScan: PackObserver {
    /// Where the tree lives when built: absolute search paths into it are inside.
    let releasePath: String
    private var names = Set<String>()
    private var images: [(relative: String, image: ELFImage)] = []

    init(releasePath: String) {
        self.releasePath = releasePath
    }

    func packedFile(_ relative: String, descriptor: Int32) throws {
        names.insert(relative)
        do {
            if let image = try ELFImage(descriptor: descriptor) { images.append((relative, image)) }
        } catch {
            throw ELFError("\(releasePath)/\(relative): \(error)")
        }
    }

    func packedSymlink(_ relative: String, target: String) {
        names.insert(relative)
    }

    func packedHardLink(_ relative: String, to first: String) {
        names.insert(relative)
    }

    func record() -> ABIRecord {
        var outside: [String: Set<String>] = [:]
        for (relative, image) in images {
            for library in image.needed where !resolvesInside(library, from: relative, searchPath: image.searchPath) {
                outside[library, default: []].formUnion(image.versionsNeeded[library] ?? [])
            }
        }
        let first = images.first?.image
        return ABIRecord(
            bits: first?.bits, machine: first.map { ABIRecord.machineName($0.machine) },
            libraries: outside.map { (name: $0.key, versions: SymbolVersion.newestOfEachFamily($0.value)) })
    }

    private func resolvesInside(_ library: String, from relative: String, searchPath: [String]) -> Bool {
        guard !library.contains("/") else { return names.contains(normalised(library, in: (relative as NSString).deletingLastPathComponent)) }
        let origin = releasePath + "/" + (relative as NSString).deletingLastPathComponent
        for directory in searchPath {
            let expanded = directory.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
            let absolute = (expanded as NSString).standardizingPath
            guard absolute.hasPrefix(releasePath + "/") else { continue }
            if names.contains(String(absolute.dropFirst(releasePath.count + 1)) + "/" + library) { return true }
        }
        return false
    }

    private func normalised(_ path: String, in directory: String) -> String {
        ((directory as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}
