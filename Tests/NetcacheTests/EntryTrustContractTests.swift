import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

/// What every `EntryTrust` must do, whatever its source of keys: one suite, run against the
/// flat list and against the roots' delegations by the test classes below.
class EntryTrustContract: XCTestCase {
    /// Builds the implementation under test trusting `keys`, needing `threshold` of them.
    typealias Make = (_ keys: [KeyGenerator.Generated], _ threshold: Int, _ policy: SignaturePolicy) throws -> any EntryTrust

    static let ed25519 = try! KeyGenerator.generate(commonName: "ed", type: .ed25519)
    static let rsa = try! KeyGenerator.generate(commonName: "rsa", bits: 2048)
    static let stranger = try! KeyGenerator.generate(commonName: "stranger", type: .ed25519)

    let now = Date()

    func statement(_ key: String = "netcache:0123", url: String = "https://lab.example/sr.cfg", expires: Date? = nil, signedBy signers: [KeyGenerator.Generated]) throws -> SignedStatement {
        var metadata: [(key: String, value: JSONValue)] = [("software_url", .string(url))]
        if let expires { metadata.append(("expires", .string(TrustDate.format(expires)))) }
        let info = NetworkCache.info(sha512: String(repeating: "c", count: 128), metadata: JSONObject(metadata))
        let signatures = try signers.map { try SigningKey(pem: Array($0.privateKeyPEM.utf8)).signature(of: info, under: key) }
        return SignedStatement(key: key, info: info, signatures: signatures)
    }

    func checkContract(_ makeTrust: Make) throws {
        try checkATrustedSignatureCounts(makeTrust)
        try checkAStrangerOrAnAlteredInfoDoesNot(makeTrust)
        try checkAnExpiredEntryDoesNot(makeTrust)
        try checkAThresholdCountsDistinctKeys(makeTrust)
        try checkModernPolicyIgnoresRSASHA1OnNetcacheKeysOnly(makeTrust)
    }

    func checkATrustedSignatureCounts(_ makeTrust: Make) throws {
        let trust = try makeTrust([Self.ed25519, Self.rsa], 1, .modern)
        let keyID = try SigningKey(pem: Array(Self.ed25519.privateKeyPEM.utf8)).publicKey.keyID
        XCTAssertEqual(trust.verdict(on: try statement(signedBy: [Self.ed25519]), at: now), .trusted(signers: [keyID]))
        XCTAssertTrue(trust.verdict(on: try statement(signedBy: [Self.rsa]), at: now).isTrusted, "RSA-PSS-SHA256")
        XCTAssertNil(trust.refusesEverything)
    }

    func checkAStrangerOrAnAlteredInfoDoesNot(_ makeTrust: Make) throws {
        let trust = try makeTrust([Self.ed25519], 1, .legacy)
        XCTAssertFalse(trust.verdict(on: try statement(signedBy: [Self.stranger]), at: now).isTrusted)
        let signed = try statement(signedBy: [Self.ed25519])
        let altered = SignedStatement(key: signed.key, info: signed.info.replacingOccurrences(of: "lab.example", with: "evil.example"), signatures: signed.signatures)
        XCTAssertFalse(trust.verdict(on: altered, at: now).isTrusted)
        let garbage = SignedStatement(key: signed.key, info: signed.info, signatures: ["", "not base64", "AAAA"])
        XCTAssertFalse(trust.verdict(on: garbage, at: now).isTrusted)
    }

    func checkAnExpiredEntryDoesNot(_ makeTrust: Make) throws {
        let trust = try makeTrust([Self.ed25519], 1, .legacy)
        let verdict = trust.verdict(on: try statement(expires: now.addingTimeInterval(-1), signedBy: [Self.ed25519]), at: now)
        XCTAssertEqual(verdict.refusal?.hasPrefix("expired on "), true, "\(verdict)")
        XCTAssertTrue(trust.verdict(on: try statement(expires: now.addingTimeInterval(60), signedBy: [Self.ed25519]), at: now).isTrusted)
    }

    func checkAThresholdCountsDistinctKeys(_ makeTrust: Make) throws {
        let trust = try makeTrust([Self.ed25519, Self.rsa], 2, .legacy)
        // RSA-PSS signatures differ each time: two of them are still one signer.
        let twice = try statement(signedBy: [Self.rsa, Self.rsa])
        XCTAssertEqual(Set(twice.signatures).count, 2)
        XCTAssertEqual(trust.verdict(on: twice, at: now).refusal?.hasPrefix("below threshold: 1 of the 2"), true)
        XCTAssertTrue(trust.verdict(on: try statement(signedBy: [Self.rsa, Self.ed25519]), at: now).isTrusted)
        XCTAssertFalse(trust.verdict(on: try statement(signedBy: [Self.rsa, Self.stranger]), at: now).isTrusted)
    }

    func checkModernPolicyIgnoresRSASHA1OnNetcacheKeysOnly(_ makeTrust: Make) throws {
        let key = try SigningKey(pem: Array(Self.rsa.privateKeyPEM.utf8))
        let modern = try makeTrust([Self.rsa], 1, .modern)
        let legacy = try makeTrust([Self.rsa], 1, .legacy)
        let unsigned = try statement(signedBy: [])
        let sha1 = Data(try key.sign(Array(unsigned.info.utf8), scheme: .rsaSHA1)).base64EncodedString()
        let onNetcache = SignedStatement(key: "netcache:0123", info: unsigned.info, signatures: [sha1])
        XCTAssertFalse(modern.verdict(on: onNetcache, at: now).isTrusted)
        XCTAssertTrue(legacy.verdict(on: onNetcache, at: now).isTrusted)
        let onLegacyKey = SignedStatement(key: "0123", info: unsigned.info, signatures: [sha1])
        XCTAssertTrue(modern.verdict(on: onLegacyKey, at: now).isTrusted)
    }
}

final class CertificateListTrustTests: EntryTrustContract {
    func testTheContract() throws {
        try checkContract { keys, threshold, policy in
            CertificateListTrust(
                certificates: CertificateList(pem: keys.map(\.certificatePEM).joined()), threshold: threshold, policy: policy, emptyTrustsAll: false)
        }
    }

    func testAnEmptyListTrustsAllOnlyWhereUpstreamDoes() throws {
        let all = CertificateListTrust(certificates: .empty, emptyTrustsAll: true)
        let none = CertificateListTrust(certificates: .empty, emptyTrustsAll: false)
        XCTAssertTrue(all.verdict(on: try statement(signedBy: []), at: now).isTrusted)
        XCTAssertFalse(none.verdict(on: try statement(signedBy: [Self.ed25519]), at: now).isTrusted)
        XCTAssertNotNil(none.refusesEverything)
    }
}

final class DelegatedTrustTests: EntryTrustContract {
    static let root = try! KeyGenerator.generate(commonName: "root", type: .ed25519)

    func resolved(_ document: TrustDocument, refusal: String? = nil) -> ResolvedTrust {
        ResolvedTrust(chainID: "test", document: document, statement: nil, timestamp: nil, rememberedVersion: nil, refusal: refusal)
    }

    func document(signers: [DelegatedSigner]) -> TrustDocument {
        TrustDocument(version: 1, issuedAt: now, roots: CertificateList(pem: Self.root.certificatePEM), rootThreshold: 1, signers: signers)
    }

    func testTheContract() throws {
        try checkContract { keys, threshold, policy in
            let signers = try keys.map { try DelegatedSigner(certificate: $0.certificatePEM, role: .sign, scopes: [], expires: self.now.addingTimeInterval(3600)) }
            return DelegatedTrust(resolved: self.resolved(self.document(signers: signers)), threshold: threshold, policy: policy)
        }
    }

    func testScopesExpiryRolesAndRevocations() throws {
        let hour = now.addingTimeInterval(3600)
        let scoped = try DelegatedSigner(certificate: Self.ed25519.certificatePEM, role: .sign, scopes: ["https://lab.example/"], expires: hour)
        let clock = try DelegatedSigner(certificate: Self.rsa.certificatePEM, role: .timestamp, scopes: [], expires: hour)
        var document = document(signers: [scoped, clock])
        let trust = { DelegatedTrust(resolved: self.resolved(document), threshold: 1, policy: .legacy) }
        XCTAssertTrue(trust().verdict(on: try statement(signedBy: [Self.ed25519]), at: now).isTrusted)
        XCTAssertEqual(
            trust().verdict(on: try statement(url: "https://lab.example.evil/sr.cfg", signedBy: [Self.ed25519]), at: now).refusal?.contains("is out of scope of signer"),
            true, "a scope is a prefix: its final / keeps another host out")
        XCTAssertEqual(
            trust().verdict(on: try statement(url: "https://other.example/sr.cfg", signedBy: [Self.ed25519]), at: now).refusal?.contains("is out of scope of signer"),
            true)
        XCTAssertFalse(trust().verdict(on: try statement(signedBy: [Self.rsa]), at: now).isTrusted, "a timestamp key signs no entry")
        XCTAssertEqual(trust().verdict(on: try statement(signedBy: [Self.ed25519]), at: hour.addingTimeInterval(1)).refusal?.contains("expired on"), true)

        document.revokedEntries = [String(repeating: "c", count: 128)]
        XCTAssertEqual(trust().verdict(on: try statement(signedBy: [Self.ed25519]), at: now), .refused("entry revoked by trust document version 1"))
        document.revokedEntries = []
        document.signers = [clock]
        document.revokedSigners = CertificateList(pem: Self.ed25519.certificatePEM)
        XCTAssertEqual(trust().verdict(on: try statement(signedBy: [Self.ed25519]), at: now).refusal?.contains("revoked by trust document version 1"), true)

        // A field the signer chooses does not widen its scope: a download entry counts by the
        // URL its key hashes, and one naming another URL only for an unscoped signer.
        // The download cache's entries are RSA-SHA1, for the Python tools.
        document.signers = [try DelegatedSigner(certificate: Self.rsa.certificatePEM, role: .sign, scopes: ["https://lab.example/"], expires: hour)]
        document.revokedSigners = .empty
        let victim = "https://victim.example/pkg.tar.gz"
        func download(url: String, extra: [(key: String, value: JSONValue)]) throws -> SignedStatement {
            let info = NetworkCache.info(sha512: String(repeating: "c", count: 128), metadata: JSONObject([("url", .string(url))] + extra))
            let key = DownloadKey.url(victim)
            return SignedStatement(key: key, info: info, signatures: [try SigningKey(pem: Array(Self.rsa.privateKeyPEM.utf8)).signature(of: info, under: key)])
        }
        let widened = try download(url: victim, extra: [("software_url", .string("https://lab.example/sr.cfg"))])
        XCTAssertEqual(trust().verdict(on: widened, at: now).refusal?.hasPrefix("https://victim.example/pkg.tar.gz is out of scope"), true)
        let mismatched = try download(url: "https://lab.example/pkg.tar.gz", extra: [])
        XCTAssertEqual(trust().verdict(on: mismatched, at: now).refusal?.hasPrefix("an entry naming no URL its key stands for is out of scope"), true)

        let stale = DelegatedTrust(resolved: resolved(document, refusal: "stale"), threshold: 1, policy: .legacy)
        XCTAssertEqual(stale.refusesEverything, "stale")
        XCTAssertEqual(stale.verdict(on: try statement(signedBy: [Self.rsa]), at: now), .refused("stale"))
    }
}
