import ArgumentParser
import Foundation
import NetcacheClient
import NetcacheProtocol
import NetcacheServer

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a bundle made by `netcache export` into a data directory.",
        discussion: """
            Every blob must hash to its name; entries are filed byte for byte, each identical \
            entry once, and only once every blob verified. The data directory must not be in use \
            by a server. Prints "BLOBS blobs, ENTRIES entries (NEW new)".

            With -c, entries are filed only when the trust settings of that slapos.cfg \
            (signature-root-list and its documents, carried in the bundle, or \
            signature-certificate-list; signature-threshold, signature-policy) trust them, as a \
            node would; each one refused is named with why, and counted ("R refused"). The \
            roots' documents are always filed: nodes check them themselves.
            """
    )

    @Argument(help: ArgumentHelp("The bundle.", valueName: "bundle.tar"))
    var bundle: String

    @Option(help: ArgumentHelp("The data directory to load it into.", valueName: "dir"))
    var data = "netcache-data"

    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp("File only the entries this slapos.cfg's trust settings trust.", valueName: "slapos.cfg"))
    var configFile: String?

    @OptionGroup var progress: ProgressOptions

    func run() async throws {
        let vetting = try configFile.map { path -> BundleImport.Vetting in
            let settings = try TrustSettings(configuration: NetworkCacheConfiguration(file: try readConfiguration(path)))
            for line in settings.skipped { printWarning(line) }
            guard !settings.roots.isEmpty || !settings.certificates.isEmpty else {
                throw CommandError("-c \(path): neither signature-root-list nor signature-certificate-list is set: it trusts nothing")
            }
            return { entries in try Self.vet(entries, settings: settings) }
        }
        let display = progress.display()
        defer { display?.finish() }
        let summary = try await BundleImport.read(
            bundle, into: URL(fileURLWithPath: data), vetting: vetting,
            progress: { blobs, bytes in display?.count("imported", files: blobs, bytes: bytes) })
        display?.finish()
        for (key, reason) in summary.refused { printWarning("not filed: \(key): \(reason)") }
        let refused = vetting == nil ? "" : ", \(summary.refused.count) refused"
        try printFlushed("\(summary.blobs) blobs, \(summary.entries) entries (\(summary.newEntries) new)\(refused)")
    }

    /// Why each refused entry is refused, by its index: trust as a node of `settings` would
    /// decide it, the roots' documents read from the bundle itself.
    static func vet(_ entries: [(key: String, body: String)], settings: TrustSettings) throws -> [Int: String] {
        var byKey: [String: [ShadirEntry]] = [:]
        for (key, body) in entries {
            if let entry = try? ShadirEntry(validatingBody: Array(body.utf8)) { byKey[key, default: []].append(entry) }
        }
        let trust: any EntryTrust
        if settings.roots.isEmpty {
            trust = CertificateListTrust(certificates: settings.certificates, threshold: settings.threshold, policy: settings.policy, emptyTrustsAll: false)
        } else {
            let resolved = try TrustChain(settings: settings) { key in byKey[key] ?? [] }.resolve(at: Date(), remember: false)
            trust = DelegatedTrust(resolved: resolved, threshold: settings.threshold, policy: settings.policy)
        }
        let now = Date()
        var verdicts: [String: TrustVerdict] = [:]
        for (key, list) in byKey where !key.hasPrefix(TrustKeys.documentPrefix) {
            for statement in SignedStatement.group(list, under: key) { verdicts[key + "\u{0}" + statement.info] = trust.verdict(on: statement, at: now) }
        }
        var refusals: [Int: String] = [:]
        for (index, (key, body)) in entries.enumerated() where !key.hasPrefix(TrustKeys.documentPrefix) {
            guard let entry = try? ShadirEntry(validatingBody: Array(body.utf8)) else {
                refusals[index] = "not a shadir entry"
                continue
            }
            if let reason = verdicts[key + "\u{0}" + entry.info]?.refusal { refusals[index] = reason }
        }
        return refusals
    }
}
