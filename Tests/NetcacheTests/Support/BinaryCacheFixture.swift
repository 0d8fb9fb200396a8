import Foundation
import NetcacheProtocol

@testable import NetcacheClient

/// A server, a signing key trusted by the configuration, and a software_root: what the
/// binary-cache tests publish to and install from.
final class BinaryCacheFixture {
    let server: ServerProcess
    let directory: URL
    let softwareRoot: String
    let softwareURL = "https://lab.example/software/erp5/software.cfg"
    let keyFile: String
    let certificate: String

    var md5: String { StreamingDigest.md5Hex(of: softwareURL) }
    var release: String { softwareRoot + "/" + md5 }

    init(serverArguments: [String] = [], serverEnvironment: [String: String] = [:]) throws {
        directory = try TemporaryDirectory.make()
        server = try ServerProcess(arguments: serverArguments, dataDirectory: directory, environment: serverEnvironment)
        softwareRoot = directory.appendingPathComponent("slapgrid").path
        try FileManager.default.createDirectory(atPath: softwareRoot, withIntermediateDirectories: true)
        let generated = try KeyGenerator.generate(commonName: "builder", bits: 2048)
        keyFile = directory.appendingPathComponent("signature.key").path
        try generated.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        certificate = generated.certificatePEM
    }

    /// Writes slapos.cfg; `extra` lines go into [networkcache].
    func config(name: String = "slapos.cfg", trusted: String? = nil, extra: String = "", slapos: String = "") throws -> String {
        let certificates = (trusted ?? certificate).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let text = """
            [slapos]
            software_root = \(softwareRoot)
            \(slapos)

            [networkcache]
            signature-private-key-file = \(keyFile)
            signature-certificate-list =
            \(certificates)
            download-binary-cache-url = \(server.shacacheURL)
            upload-binary-cache-url = \(server.shacacheURL)
            download-binary-dir-url = \(server.shadirURL)
            upload-binary-dir-url = \(server.shadirURL)
            \(extra)
            """
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// slapos.cfg with another software_root.
    func config(root: String, extra: String = "") throws -> String {
        try rewritten(try config(extra: extra), replacing: "software_root = \(softwareRoot)\n", with: "software_root = \(root)\n")
    }

    /// A copy of `config`, under a name of its own, with `old` replaced by `new`. A config
    /// without `old` throws: the copy would be the same, and the test would prove nothing.
    func rewritten(_ config: String, replacing old: String, with new: String) throws -> String {
        let original = try String(contentsOfFile: config, encoding: .utf8)
        guard original.contains(old) else { throw TestFailure("\(config) does not hold \(old)") }
        let path = directory.appendingPathComponent("rewritten-\(UUID().uuidString).cfg").path
        try original.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `config` rewritten to reach the server through a proxy that keeps the line of each
    /// request as it arrives: once the client has exited, the proxy has seen every request
    /// it made, which the server's log, written after each answer, cannot promise.
    func recorded(_ config: String) throws -> (config: String, proxy: GatedProxy) {
        let proxy = try GatedProxy.recording(server.url)
        return (try rewritten(config, replacing: server.url, with: proxy.url), proxy)
    }

    /// Publishes a `ReleaseTree` and removes it: a cache holding a release this machine
    /// has not installed yet.
    func publishReleaseElsewhere() throws {
        try ReleaseTree.make(at: release)
        let published = try netcache("publish", "-c", try config(), "--software-url", softwareURL)
        guard published.status == 0 else { throw TestFailure("publish: \(published.stderr)") }
        try FileManager.default.removeItem(atPath: release)
    }

    /// Whatever is in software_root besides the given names (staging leftovers, partial trees).
    /// What software_root holds besides `names`: the kept chunk indexes of installed
    /// releases are not stray, but anything else in their directory is (a partial one).
    func strayEntries(besides names: Set<String> = []) throws -> [String] {
        let indexes = softwareRoot + "/.netcache-indexes"
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: indexes)) ?? []
        let stray = kept.filter { name in !(name.utf8.count == 32 && name.allSatisfy(\.isHexDigit)) }.map { ".netcache-indexes/" + $0 }
        return try FileManager.default.contentsOfDirectory(atPath: softwareRoot).filter { !names.contains($0) && $0 != ".netcache-indexes" } + stray
    }
}
