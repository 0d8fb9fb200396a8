import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

/// Trust that survives a stolen key, end to end: real keys made by `netcache keygen`, real
/// servers, the trust commands on a root's machine, publish on a builder's, install and
/// lookup on a node that is given only the roots.
final class TrustScenarioTests: XCTestCase {
    var directory: URL!
    var server: ServerProcess!
    var softwareRoot: String!
    let softwareURL = "https://lab.example/software/erp5/software.cfg"
    var md5: String { StreamingDigest.md5Hex(of: softwareURL) }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory.make()
        server = try ServerProcess(dataDirectory: try madeDirectory("first"))
        softwareRoot = directory.appendingPathComponent("slapgrid").path
        try FileManager.default.createDirectory(atPath: softwareRoot, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
    }

    // MARK: - Machines

    func madeDirectory(_ name: String) throws -> URL {
        let made = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true)
        return made
    }

    /// `netcache keygen` for a key pair; returns (key file, certificate file).
    @discardableResult
    func keygen(_ name: String, type: String = "ed25519") throws -> (key: String, cert: String) {
        let key = directory.appendingPathComponent("\(name).key").path
        let cert = directory.appendingPathComponent("\(name).pem").path
        let made = try netcache("keygen", "--type", type, "--bits", "2048", key, name, "--cert-file", cert)
        guard made.status == 0 else { throw TestFailure("keygen \(name): \(made.stderr)") }
        return (key, cert)
    }

    func certificate(_ name: String) throws -> String {
        try String(contentsOfFile: directory.appendingPathComponent("\(name).pem").path, encoding: .utf8)
    }

    /// slapos.cfg of one machine: `roots` become signature-root-list, `lines` go as they are.
    func config(_ name: String, roots: [String], server: ServerProcess? = nil, lines: [String] = []) throws -> String {
        let server = server ?? self.server!
        return try config(name, roots: roots, shacache: server.shacacheURL, shadir: server.shadirURL, lines: lines)
    }

    /// The same, through any pair of endpoints (a mirror's); the download cache's too.
    func config(_ name: String, roots: [String], shacache: String, shadir: String, lines: [String] = []) throws -> String {
        let pem = try roots.map(certificate).joined().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let text = """
            [slapos]
            software_root = \(softwareRoot!)

            [networkcache]
            signature-root-list =
            \(pem)
            download-binary-cache-url = \(shacache)
            upload-binary-cache-url = \(shacache)
            download-binary-dir-url = \(shadir)
            upload-binary-dir-url = \(shadir)
            download-cache-url = \(shacache)
            upload-cache-url = \(shacache)
            download-dir-url = \(shadir)
            upload-dir-url = \(shadir)
            trust-state-file = \(directory.appendingPathComponent("\(name).state").path)
            \(lines.joined(separator: "\n"))

            """
        let path = directory.appendingPathComponent("\(name).cfg").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A builder signing with `signer`'s key: netcache's entry only, the legacy one needs RSA-SHA1.
    func builder(_ signer: String, roots: [String] = ["root"], server: ServerProcess? = nil) throws -> String {
        try config("builder-\(signer)", roots: roots, server: server, lines: [
            "signature-private-key-file = \(directory.appendingPathComponent("\(signer).key").path)",
            "binary-cache-legacy-format = false",
        ])
    }

    /// A builder no root delegates to, trusting itself flatly: what a thief of no key files.
    func rogueBuilder(_ signer: String) throws -> String {
        let pem = try certificate(signer).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        return try config("rogue-\(signer)", roots: [], lines: [
            "signature-private-key-file = \(directory.appendingPathComponent("\(signer).key").path)",
            "binary-cache-legacy-format = false",
            "signature-certificate-list =\n\(pem)",
        ])
    }

    func trust(_ arguments: String...) throws -> CommandResult {
        try netcache(arguments: ["trust"] + arguments)
    }

    func expectSuccess(_ result: CommandResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, "\(what): \(result.stderr)", file: file, line: line)
    }

    /// Builds the release tree, publishes it with `builderConfig`, and keeps the tree aside
    /// to compare installs with.
    func publish(_ builderConfig: String, url: String? = nil, extra: [String] = []) throws -> String {
        let url = url ?? softwareURL
        let release = softwareRoot + "/" + StreamingDigest.md5Hex(of: url)
        let kept = directory.appendingPathComponent("reference-\(UUID().uuidString)").path
        try ReleaseTree.make(at: release)
        let published = try netcache(arguments: ["publish", "-c", builderConfig, "--software-url", url] + extra)
        guard published.status == 0 else { throw TestFailure("publish: \(published.stderr)") }
        try FileManager.default.moveItem(atPath: release, toPath: kept)
        return kept
    }

    func install(_ nodeConfig: String, url: String? = nil) throws -> CommandResult {
        try netcache("install", "-c", nodeConfig, "--software-url", url ?? softwareURL)
    }

    func uninstall(url: String? = nil) throws {
        try? FileManager.default.removeItem(atPath: softwareRoot + "/" + StreamingDigest.md5Hex(of: url ?? softwareURL))
    }

    func rootOnly(_ name: String = "root") throws -> String {
        try config("root-machine", roots: [name])
    }

    // MARK: - Scenarios

    func testDelegationScopeRevocationAndANewSigner() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let bob = try keygen("bob", type: "rsa")
        let rootMachine = try rootOnly()
        let node = try config("node", roots: ["root"])

        // Unscoped at first: alice publishes a release outside what she is later scoped to.
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate alice")
        let elsewhere = "https://elsewhere.example/software.cfg"
        _ = try publish(try builder("alice"), url: elsewhere)
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01", "--scope", "https://lab.example/software/"), "scope alice")
        let reference = try publish(try builder("alice"))

        // Only the root is configured on the node: no signature-certificate-list.
        expectSuccess(try install(node), "install of alice's release")
        try ReleaseTree.assertSameTree(reference, softwareRoot + "/" + md5)

        let outOfScope = try install(node, url: elsewhere)
        XCTAssertEqual(outOfScope.status, 3, outOfScope.stderr)
        XCTAssertTrue(outOfScope.stderr.contains("\(elsewhere) is out of scope of signer"), outOfScope.stderr)
        // Publish refuses it too, before packing: nothing a node would refuse is filed.
        try ReleaseTree.make(at: softwareRoot + "/" + StreamingDigest.md5Hex(of: "https://elsewhere.example/other.cfg"))
        let refusedPublish = try netcache("publish", "-c", try builder("alice"), "--software-url", "https://elsewhere.example/other.cfg")
        XCTAssertEqual(refusedPublish.status, 1)
        XCTAssertTrue(refusedPublish.stderr.contains("https://elsewhere.example/other.cfg is out of scope of signer"), refusedPublish.stderr)

        expectSuccess(try trust("revoke", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert), "revoke alice")
        try uninstall()
        let revoked = try install(node)
        XCTAssertEqual(revoked.status, 3, revoked.stderr)
        XCTAssertTrue(revoked.stderr.contains("revoked by trust document version 3"), revoked.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: softwareRoot + "/" + md5))
        try ReleaseTree.make(at: softwareRoot + "/" + md5)
        let stolen = try netcache("publish", "-c", try builder("alice"), "--software-url", softwareURL)
        try uninstall()
        XCTAssertEqual(stolen.status, 1)
        XCTAssertTrue(stolen.stderr.contains("is not a signer of trust document version 3"), stolen.stderr)

        let again = try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("was revoked by an earlier version; make a new key"), again.stderr)

        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", bob.cert, "--expires", "2099-01-01"), "delegate bob")
        let republished = try publish(try builder("bob"))
        expectSuccess(try install(node), "install of bob's release")
        try ReleaseTree.assertSameTree(republished, softwareRoot + "/" + md5)

        let shown = try trust("show", "-c", node, "--json")
        expectSuccess(shown, "show")
        let document = try XCTUnwrap(JSONValue(parsing: shown.output).objectValue)
        XCTAssertEqual(document["version"], .integer(4))
        XCTAssertEqual(document["trusted"], .bool(true))
        XCTAssertEqual(document["revoked_signers"]?.arrayValue?.count, 1)
        XCTAssertEqual(document["signers"]?.arrayValue?.compactMap { $0.objectValue?["role"]?.stringValue }, ["sign"])
    }

    func testARevokedEntryIsRefusedWhoeverSignedIt() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let rootMachine = try rootOnly()
        let node = try config("node", roots: ["root"])
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        _ = try publish(try builder("alice"))
        let lookup = try netcache("lookup", "binary-sr", "-c", node, softwareURL, "--json")
        let sha512 = try XCTUnwrap(JSONValue(parsing: lookup.output).arrayValue?.first?.objectValue?["sha512"]?.stringValue)
        expectSuccess(try trust("revoke", "-c", rootMachine, "--root-key", root.key, "--entry", sha512), "revoke entry")
        let refused = try install(node)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("entry revoked by trust document version 2"), refused.stderr)
    }

    func testAnExpiredTimestampRefusesEverything() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let clock = try keygen("clock")
        let rootMachine = try rootOnly()
        let node = try config("node", roots: ["root"])
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate alice")
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", clock.cert, "--expires", "2099-01-01", "--role", "timestamp"), "delegate clock")
        _ = try publish(try builder("alice"))

        let unstamped = try install(node)
        XCTAssertEqual(unstamped.status, 3, unstamped.stderr)
        XCTAssertTrue(unstamped.stderr.contains("no valid timestamp for trust document version 2"), unstamped.stderr)

        // A timestamp key signs timestamps, not entries.
        let notASigner = try trust("timestamp", "-c", try config("clock-machine", roots: ["root"]), "--key", alice.key, "--valid", "1h")
        XCTAssertEqual(notASigner.status, 1)
        XCTAssertTrue(notASigner.stderr.contains("is not a timestamp signer of trust document version 2"), notASigner.stderr)

        let stamped = try trust("timestamp", "-c", try config("clock-machine", roots: ["root"]), "--key", clock.key, "--valid", "3s")
        expectSuccess(stamped, "timestamp")
        XCTAssertTrue(stamped.output.hasPrefix("timestamp of trust document version 2 valid until "), stamped.output)
        expectSuccess(try install(node), "install while fresh")
        try uninstall()

        Thread.sleep(forTimeInterval: 3.5)
        let stale = try install(node)
        XCTAssertEqual(stale.status, 3, stale.stderr)
        XCTAssertTrue(stale.stderr.contains("stale trust document: the newest timestamp (version 2) expired on "), stale.stderr)
        let lookup = try netcache("lookup", "binary-sr", "-c", node, softwareURL, "--json")
        XCTAssertTrue(lookup.stderr.contains("nothing is trusted: stale trust document"), lookup.stderr)
        let why = try XCTUnwrap(JSONValue(parsing: lookup.output).arrayValue?.first?.objectValue?["refusal"]?.stringValue)
        XCTAssertTrue(why.hasPrefix("stale trust document"), why)
    }

    func testAnOlderDocumentOnAnotherServerIsARollback() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let bob = try keygen("bob")
        let rootMachine = try rootOnly()
        let second = try ServerProcess(dataDirectory: try madeDirectory("second"))
        defer { second.stop() }

        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "v1")
        // The second server gets version 1 only, and alice's release.
        let trustKey = TrustKeys.key(forRoot: try XCTUnwrap(CertificateList(pem: certificate("root")).keys.first).keyID)
        let listing = try ShadirClient(downloadURL: server.shadirURL, uploadURL: nil, tls: TLSSettings()).entries(for: trustKey)
        XCTAssertEqual(listing.count, 1)
        let secondShadir = ShadirClient(downloadURL: nil, uploadURL: second.shadirURL, tls: TLSSettings())
        for entry in listing { try secondShadir.put(entry, under: trustKey) }
        _ = try publish(try builder("alice", server: second))
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", bob.cert, "--expires", "2099-01-01"), "v2")

        // The node reads version 2 from the first server, then is pointed at the second.
        let state = directory.appendingPathComponent("node.state").path
        expectSuccess(try trust("show", "-c", try config("node", roots: ["root"])), "show")
        XCTAssertFalse(FileManager.default.fileExists(atPath: state), "show does not change the node's state")
        let first = try install(try config("node", roots: ["root"]))
        XCTAssertEqual(first.status, 3, "nothing of alice's on the first server")
        XCTAssertTrue(FileManager.default.fileExists(atPath: state))

        let rolledBack = try install(try config("node", roots: ["root"], server: second))
        XCTAssertEqual(rolledBack.status, 3, rolledBack.stderr)
        XCTAssertTrue(
            rolledBack.stderr.contains("rollback refused: the cache serves version 1 at most, older than version 2 this node accepted on "),
            rolledBack.stderr)

        // A node that never saw version 2 takes version 1 from the second server, as it must.
        let fresh = try install(try config("other-node", roots: ["root"], server: second))
        expectSuccess(fresh, "install on a node that never saw version 2")
    }

    func testThresholdTwoNeedsACosignature() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let bob = try keygen("bob", type: "rsa")
        let rootMachine = try rootOnly()
        for signer in [alice, bob] {
            expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", signer.cert, "--expires", "2099-01-01"), "delegate")
        }
        let reference = try publish(try builder("alice"))
        let node = try config("node", roots: ["root"], lines: ["signature-threshold = 2"])

        let below = try install(node)
        XCTAssertEqual(below.status, 3, below.stderr)
        XCTAssertTrue(below.stderr.contains("below threshold: 1 of the 2 trusted signatures required"), below.stderr)

        let cosigned = try netcache("cosign", "-c", try builder("bob"), "--software-url", softwareURL)
        expectSuccess(cosigned, "cosign")
        XCTAssertTrue(cosigned.output.hasSuffix("1 entry cosigned, 0 already signed by this key\n"), cosigned.output)
        expectSuccess(try install(node), "install with two signatures")
        try ReleaseTree.assertSameTree(reference, softwareRoot + "/" + md5)

        // The same signer twice is one signer.
        let twice = try netcache("cosign", "-c", try builder("bob"), "--software-url", softwareURL)
        XCTAssertTrue(twice.output.hasSuffix("0 entries cosigned, 1 already signed by this key\n"), twice.output)
    }

    func testARootRotationNeedsTheOldRootsThreshold() throws {
        let first = try keygen("first-root")
        let second = try keygen("second-root")
        let next = try keygen("next-root")
        let alice = try keygen("alice")
        let bob = try keygen("bob")
        let rootMachine = try config("root-machine", roots: ["first-root", "second-root"], lines: ["signature-root-threshold = 2"])
        let node = try config("node", roots: ["first-root", "second-root"], lines: ["signature-root-threshold = 2"])

        let one = try trust("delegate", "-c", rootMachine, "--root-key", first.key, "--signer", alice.cert, "--expires", "2099-01-01")
        expectSuccess(one, "v1 by one root")
        XCTAssertTrue(one.output.contains("nodes ignore it until more roots sign it"), one.output)
        XCTAssertEqual(try install(node).status, 3, "one of two roots is not enough")
        expectSuccess(try trust("sign", "-c", rootMachine, "--root-key", second.key), "second root signs v1")
        let reference = try publish(try builder("alice", roots: ["first-root", "second-root"]))
        expectSuccess(try install(node), "v1 signed by both roots")
        try ReleaseTree.assertSameTree(reference, softwareRoot + "/" + md5)

        // Rotation to `next`, signed by one old root only: refused.
        let rotation = try trust("roots", "-c", rootMachine, "--root", next.cert, "--root-key", first.key, "--root-key", next.key)
        expectSuccess(rotation, "rotation filed")
        XCTAssertTrue(rotation.output.contains("1 of the 2 signatures of the current roots, 1 of the 1 of its own roots"), rotation.output)
        let shown = try XCTUnwrap(JSONValue(parsing: try trust("show", "-c", node, "--json").output).objectValue)
        XCTAssertEqual(shown["version"], .integer(1), "a rotation signed by too few old roots is not followed")

        // The second old root consents: the chain moves to the new root, which alone signs v3.
        expectSuccess(try trust("sign", "-c", rootMachine, "--root-key", second.key), "second root signs the rotation")
        let rotated = try XCTUnwrap(JSONValue(parsing: try trust("show", "-c", node, "--json").output).objectValue)
        XCTAssertEqual(rotated["version"], .integer(2))
        let nextID = try XCTUnwrap(CertificateList(pem: certificate("next-root")).keys.first).keyID
        XCTAssertEqual(rotated["roots"], .array([.string(nextID)]))
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", next.key, "--signer", bob.cert, "--expires", "2099-01-01"), "v3 by the new root")
        let after = try XCTUnwrap(JSONValue(parsing: try trust("show", "-c", node, "--json").output).objectValue)
        XCTAssertEqual(after["version"], .integer(3))
        let oldRootAlone = try trust("delegate", "-c", rootMachine, "--root-key", first.key, "--signer", bob.cert, "--expires", "2099-06-01")
        XCTAssertEqual(oldRootAlone.status, 1)
        XCTAssertTrue(oldRootAlone.stderr.contains("is not a root of the trust document"), oldRootAlone.stderr)
    }

    func testExpiredEntriesAndSignersAreNotInstalled() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let rootMachine = try rootOnly()
        let node = try config("node", roots: ["root"])
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        let soon = Date().addingTimeInterval(4)
        _ = try publish(try builder("alice"), extra: ["--expires", TrustDate.format(soon)])
        Thread.sleep(until: soon.addingTimeInterval(1))
        let expired = try install(node)
        XCTAssertEqual(expired.status, 3, expired.stderr)
        XCTAssertTrue(expired.stderr.contains("expired on "), expired.stderr)

        // Renewed with an expiry in a few seconds: the signer's entries stop counting with it.
        let lapse = Date().addingTimeInterval(4)
        let shortly = TrustDate.format(lapse)
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", shortly), "renew")
        _ = try publish(try builder("alice"), url: "https://lab.example/software/other.cfg")
        Thread.sleep(until: lapse.addingTimeInterval(1))
        let lapsed = try install(node, url: "https://lab.example/software/other.cfg")
        XCTAssertEqual(lapsed.status, 3, lapsed.stderr)
        XCTAssertTrue(lapsed.stderr.contains("expired on \(shortly)"), lapsed.stderr)
    }

    func testModernPolicyRefusesRSASHA1OnNetcacheEntries() throws {
        let legacy = try KeyGenerator.generate(commonName: "legacy", bits: 2048)
        let key = try SigningKey(pem: Array(legacy.privateKeyPEM.utf8))
        let info = NetworkCache.info(sha512: String(repeating: "a", count: 128), metadata: JSONObject([("url", .string("https://lab.example/x"))]))
        let shadir = ShadirClient(downloadURL: server.shadirURL, uploadURL: server.shadirURL, tls: TLSSettings())
        let sha1 = Data(try key.sign(Array(info.utf8), scheme: .rsaSHA1)).base64EncodedString()
        try shadir.put(ShadirEntry(info: info, signature: sha1), under: "netcache:old")
        try shadir.put(ShadirEntry(info: info, signature: sha1), under: "file-urlmd5:old")
        let statements = { (key: String) in SignedStatement.group(try shadir.entries(for: key), under: key) }
        let certificates = CertificateList(pem: legacy.certificatePEM)
        let modern = CertificateListTrust(certificates: certificates, policy: .modern, emptyTrustsAll: false)
        let lenient = CertificateListTrust(certificates: certificates, policy: .legacy, emptyTrustsAll: false)
        XCTAssertEqual(modern.verdict(on: try statements("netcache:old")[0], at: Date()), .refused("signed only with RSA-SHA1 (signature-policy = modern)"))
        XCTAssertTrue(lenient.verdict(on: try statements("netcache:old")[0], at: Date()).isTrusted)
        XCTAssertTrue(modern.verdict(on: try statements("file-urlmd5:old")[0], at: Date()).isTrusted, "the Python tools' keys stay RSA-SHA1")

        // What netcache signs for its own keys with an RSA key is RSA-PSS-SHA256.
        let pss = try key.signature(of: info, under: "netcache:new")
        try shadir.put(ShadirEntry(info: info, signature: pss), under: "netcache:new")
        XCTAssertTrue(modern.verdict(on: try statements("netcache:new")[0], at: Date()).isTrusted)
        let signers = certificates.signers(of: info, signatures: [pss])
        XCTAssertEqual(signers.map(\.scheme), [.rsaPSSSHA256])
    }

    func testAnEd25519KeyCannotSignWhatThePythonToolsRead() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        expectSuccess(try trust("delegate", "-c", try rootOnly(), "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        try ReleaseTree.make(at: softwareRoot + "/" + md5)
        let withLegacy = try config("legacy-builder", roots: ["root"], lines: ["signature-private-key-file = \(alice.key)"])
        let refused = try netcache("publish", "-c", withLegacy, "--software-url", softwareURL)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.stderr.contains("an Ed25519 key cannot sign \(md5): the SlapOS Python tools read it and verify RSA-SHA1 only; sign it with an RSA key"),
            refused.stderr)
    }

    // MARK: - Everywhere the rules apply

    func testDownloadAndFetchFollowTheRootsToo() throws {
        let root = try keygen("root")
        let carol = try keygen("carol", type: "rsa")
        let rootMachine = try rootOnly()
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", carol.cert, "--expires", "2099-01-01", "--scope", "https://files.example/"), "delegate")
        let payload = directory.appendingPathComponent("payload").path
        try Data("payload bytes\n".utf8).write(to: URL(fileURLWithPath: payload))
        let uploader = try config("uploader", roots: ["root"], lines: ["signature-private-key-file = \(carol.key)"])
        expectSuccess(try netcache("upload", "-c", uploader, "--file", payload, "--url", "https://files.example/payload.tar.gz"), "upload")
        expectSuccess(try netcache("upload", "-c", uploader, "--file", payload, "--url", "https://elsewhere.example/payload.tar.gz"), "upload out of scope")

        let node = try config("node", roots: ["root"])
        let downloaded = try netcache("download", "-c", node, "--url", "https://files.example/payload.tar.gz")
        expectSuccess(downloaded, "download")
        XCTAssertEqual(downloaded.output, "payload bytes\n")
        let outside = try netcache("download", "-c", node, "--url", "https://elsewhere.example/payload.tar.gz")
        XCTAssertEqual(outside.status, 1)
        XCTAssertTrue(outside.stderr.contains("no trusted entry under file-urlmd5:"), outside.stderr)
        let table = try netcache("lookup", "url", "-c", node, "https://elsewhere.example/payload.tar.gz")
        XCTAssertTrue(table.output.contains("https://elsewhere.example/payload.tar.gz is out of scope of signer"), table.output)

        // files.example does not exist: fetch can only take the cache's trusted entry.
        let fetchedFile = directory.appendingPathComponent("fetched").path
        expectSuccess(try netcache("fetch", "-c", node, "https://files.example/payload.tar.gz", "-o", fetchedFile), "fetch")
        XCTAssertEqual(try String(contentsOfFile: fetchedFile, encoding: .utf8), "payload bytes\n")

        expectSuccess(try trust("revoke", "-c", rootMachine, "--root-key", root.key, "--signer", carol.cert), "revoke")
        let revoked = try netcache("download", "-c", node, "--url", "https://files.example/payload.tar.gz")
        XCTAssertEqual(revoked.status, 1)
        XCTAssertTrue(revoked.stderr.contains("no trusted entry under file-urlmd5:"), revoked.stderr)
        let refetched = try netcache("fetch", "-c", node, "https://files.example/payload.tar.gz", "-o", directory.appendingPathComponent("refetched").path)
        XCTAssertEqual(refetched.status, 1, "the only entry's signer is revoked, and the origin does not exist")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("refetched").path))
    }

    func testAMirrorPassesTheDocumentsThroughUnchanged() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        let clock = try keygen("clock")
        let rootMachine = try rootOnly()
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", clock.cert, "--expires", "2099-01-01", "--role", "timestamp"), "delegate clock")
        expectSuccess(try trust("timestamp", "-c", rootMachine, "--key", clock.key, "--valid", "1h"), "timestamp")
        let reference = try publish(try builder("alice"))
        // The mirror trusts alice flatly: the roots' documents, signed by no key of its list,
        // still reach the nodes as they are.
        let trusted = directory.appendingPathComponent("mirror-trusts.pem").path
        try certificate("alice").write(toFile: trusted, atomically: true, encoding: .utf8)
        let base = server.url
        let mirror = try ServerProcess(
            arguments: ["--upstream-cache", base + "/shacache", "--upstream-dir", base + "/shadir", "--trusted-certificates", trusted],
            dataDirectory: try madeDirectory("mirror"))
        defer { mirror.stop() }
        let node = try config("node", roots: ["root"], shacache: mirror.shacacheURL, shadir: mirror.shadirURL)
        expectSuccess(try install(node), "install through the mirror")
        try ReleaseTree.assertSameTree(reference, softwareRoot + "/" + md5)

        let trustKey = TrustKeys.key(forRoot: try XCTUnwrap(CertificateList(pem: certificate("root")).keys.first).keyID)
        let upstream = try ShadirClient(downloadURL: server.shadirURL, uploadURL: nil, tls: TLSSettings()).entries(for: trustKey)
        let mirrored = try ShadirClient(downloadURL: mirror.shadirURL, uploadURL: nil, tls: TLSSettings()).entries(for: trustKey)
        XCTAssertEqual(mirrored, upstream)
        XCTAssertEqual(upstream.count, 3, "two versions and a timestamp")
    }

    func testBundlesCarryTheDocumentsAndImportVetsEntries() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        _ = try keygen("mallory")
        let rootMachine = try rootOnly()
        expectSuccess(try trust("delegate", "-c", rootMachine, "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        _ = try publish(try builder("alice"))
        let other = "https://lab.example/software/other.cfg"
        _ = try publish(try rogueBuilder("mallory"), url: other)
        let netcacheKey = "netcache:" + md5
        let otherKey = "netcache:" + StreamingDigest.md5Hex(of: other)

        // Exported by key: the roots' documents go along.
        let bundle = directory.appendingPathComponent("site.tar").path
        expectSuccess(try netcache("export", "--data", server.dataDirectory.path, "-k", netcacheKey, "-k", otherKey, "-o", bundle), "export")
        let siteHome = try madeDirectory("site")
        let site = siteHome.appendingPathComponent("data").path
        let imported = try netcache("import", bundle, "--data", site, "-c", try config("site", roots: ["root"]))
        expectSuccess(imported, "import")
        XCTAssertTrue(imported.output.hasSuffix("entries (2 new), 1 refused\n"), imported.output)
        XCTAssertTrue(imported.stderr.contains("not filed: \(otherKey): signature not trusted"), imported.stderr)
        let keys = try netcache("admin", "keys", "--data", site)
        XCTAssertTrue(keys.output.contains(netcacheKey), keys.output)
        XCTAssertFalse(keys.output.contains(otherKey), keys.output)

        // A node of the offline site, given only the roots, installs from it.
        let siteServer = try ServerProcess(dataDirectory: siteHome)
        defer { siteServer.stop() }
        expectSuccess(try install(try config("site-node", roots: ["root"], server: siteServer)), "install at the offline site")
        XCTAssertTrue(keys.output.contains(TrustKeys.documentPrefix), keys.output)
    }

    func testMirrorPullTakesTheDocumentsAndOnlyTrustedEntries() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        _ = try keygen("mallory")
        expectSuccess(try trust("delegate", "-c", try rootOnly(), "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        _ = try publish(try builder("alice"))
        let other = "https://lab.example/software/other.cfg"
        _ = try publish(try rogueBuilder("mallory"), url: other)
        let siteHome = try madeDirectory("site")
        let pulled = try netcache(
            "mirror", "pull", "-c", try config("site", roots: ["root"]), "--software-url", softwareURL, "--software-url", other,
            "--data", siteHome.appendingPathComponent("data").path)
        expectSuccess(pulled, "pull")
        let trustKey = TrustKeys.key(forRoot: try XCTUnwrap(CertificateList(pem: certificate("root")).keys.first).keyID)
        XCTAssertTrue(pulled.output.contains("\(trustKey): 1 entries, 1 blobs"), pulled.output)
        // The chunk index and its one chunk.
        XCTAssertTrue(pulled.output.contains("netcache:\(md5): 1 entries, 2 blobs"), pulled.output)
        XCTAssertTrue(pulled.output.contains("netcache:\(StreamingDigest.md5Hex(of: other)): 0 entries, 0 blobs"), pulled.output)

        let siteServer = try ServerProcess(dataDirectory: siteHome)
        defer { siteServer.stop() }
        expectSuccess(try install(try config("site-node", roots: ["root"], server: siteServer)), "install from what was pulled")
    }

    func testAStateFileThatCannotBeWrittenStopsWithAnError() throws {
        let root = try keygen("root")
        let alice = try keygen("alice")
        expectSuccess(try trust("delegate", "-c", try rootOnly(), "--root-key", root.key, "--signer", alice.cert, "--expires", "2099-01-01"), "delegate")
        _ = try publish(try builder("alice"))
        let blocker = directory.appendingPathComponent("not-a-directory").path
        try Data().write(to: URL(fileURLWithPath: blocker))
        let node = try config("node", roots: ["root"], lines: ["trust-state-file = \(blocker)/state.json"])
        let refused = try install(node)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("trust-state-file \(blocker)/state.json"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: softwareRoot + "/" + md5))
    }
}
