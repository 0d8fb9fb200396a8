import Foundation
import NetcacheProtocol
import XCTest

@testable import NetcacheClient

final class SignatureTests: XCTestCase {
    static let first = try! KeyGenerator.generate(commonName: "first", bits: 2048)
    static let second = try! KeyGenerator.generate(commonName: "second", bits: 1024)

    private let info = "{\"sha512\": \"\(String(repeating: "0", count: 128))\", \"url\": \"http://example.org/caf\\u00e9\"}"

    func testSignatureVerifiesWithTheMatchingCertificate() throws {
        let key = try SigningKey(pem: Array(Self.first.privateKeyPEM.utf8))
        let signature = try key.signature(of: info, under: "file-urlmd5:0")
        XCTAssertTrue(CertificateList(pem: Self.first.certificatePEM).verifies(info: info, signature: signature))
        XCTAssertFalse(CertificateList(pem: Self.second.certificatePEM).verifies(info: info, signature: signature))
    }

    func testAlteredInfoIsRejected() throws {
        let key = try SigningKey(pem: Array(Self.first.privateKeyPEM.utf8))
        let signature = try key.signature(of: info, under: "file-urlmd5:0")
        let trust = CertificateList(pem: Self.first.certificatePEM)
        XCTAssertFalse(trust.verifies(info: info.replacingOccurrences(of: "example.org", with: "example.com"), signature: signature))
        // Same JSON value, other bytes: signatures cover the text, never a re-serialisation.
        XCTAssertFalse(trust.verifies(info: info.replacingOccurrences(of: ", ", with: ","), signature: signature))
        XCTAssertFalse(trust.verifies(info: info, signature: ""))
        XCTAssertFalse(trust.verifies(info: info, signature: "not base64"))
    }

    func testAnyCertificateOfTheListMayVerify() throws {
        let key = try SigningKey(pem: Array(Self.second.privateKeyPEM.utf8))
        let trust = CertificateList(pem: Self.first.certificatePEM + "\n" + Self.second.certificatePEM)
        XCTAssertEqual(trust.keys.count, 2)
        XCTAssertTrue(trust.verifies(info: info, signature: try key.signature(of: info, under: "file-urlmd5:0")))
    }

    func testABadCertificateIsReportedAndSkipped() throws {
        let broken = "-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n"
        let trust = CertificateList(pem: broken + Self.first.certificatePEM)
        XCTAssertEqual(trust.keys.count, 1)
        XCTAssertEqual(trust.skipped.count, 1)
        let key = try SigningKey(pem: Array(Self.first.privateKeyPEM.utf8))
        XCTAssertTrue(trust.verifies(info: info, signature: try key.signature(of: info, under: "file-urlmd5:0")))
    }

    func testLineWrappedBase64IsAccepted() throws {
        let key = try SigningKey(pem: Array(Self.first.privateKeyPEM.utf8))
        let signature = try key.signature(of: info, under: "file-urlmd5:0")
        var wrapped = ""
        for (index, character) in signature.enumerated() {
            if index > 0 && index % 76 == 0 { wrapped += "\n" }
            wrapped.append(character)
        }
        XCTAssertTrue(wrapped.contains("\n"))
        XCTAssertTrue(CertificateList(pem: Self.first.certificatePEM).verifies(info: info, signature: wrapped + "\n"))
    }

    func testSignaturesMatchOpenSSLCommandLine() throws {
        let directory = try TemporaryDirectory.make()
        let keyFile = directory.appendingPathComponent("key.pem")
        let dataFile = directory.appendingPathComponent("info")
        try Self.first.privateKeyPEM.write(to: keyFile, atomically: true, encoding: .utf8)
        try info.write(to: dataFile, atomically: true, encoding: .utf8)
        let result = try openssl("dgst", "-sha1", "-sign", keyFile.path, dataFile.path)
        let key = try SigningKey(pemFile: keyFile.path)
        XCTAssertEqual(try key.sign(Array(info.utf8), scheme: .rsaSHA1), Array(result.stdout))
    }

    func testASigningKeyWithoutMatchingCertificateIsRefused() throws {
        let directory = try TemporaryDirectory.make()
        let keyFile = directory.appendingPathComponent("key.pem")
        try Self.first.privateKeyPEM.write(to: keyFile, atomically: true, encoding: .utf8)
        var configuration = NetworkCacheConfiguration(
            downloadCacheURL: "http://127.0.0.1:1/shacache", downloadDirURL: "http://127.0.0.1:1/shadir",
            signaturePrivateKeyFile: keyFile.path, signatureCertificateList: Self.second.certificatePEM)
        XCTAssertThrowsError(try NetworkCache(configuration: configuration)) { error in
            XCTAssertEqual(
                "\(error)",
                "signature-private-key-file \(keyFile.path) does not match any certificate of signature-certificate-list: none of the 1 certificate(s) of signature-certificate-list is its; add the certificate `netcache keygen --cert-file` wrote for this key")
        }
        configuration.signatureCertificateList = Self.second.certificatePEM + Self.first.certificatePEM
        XCTAssertNoThrow(try NetworkCache(configuration: configuration))
    }

    func testKeygenWritesAPrivateKeyFile0600AndRefusesToOverwrite() throws {
        let directory = try TemporaryDirectory.make()
        let keyFile = directory.appendingPathComponent("signature.key").path
        let certFile = directory.appendingPathComponent("signature.cert").path
        let result = try netcache("keygen", keyFile, "node-1", "--cert-file", certFile, "--bits", "1024")
        XCTAssertEqual(result.status, 0, result.stderr)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let certificate = try String(contentsOfFile: certFile, encoding: .utf8)
        let subject = try openssl("x509", "-noout", "-subject", "-enddate", "-in", certFile)
        XCTAssertTrue(subject.output.contains("CN = node-1"), subject.output)
        XCTAssertTrue(subject.output.contains("notAfter="), subject.output)
        let key = try SigningKey(pemFile: keyFile)
        XCTAssertTrue(CertificateList(pem: certificate).contains(publicKeyOf: key))

        let again = try netcache("keygen", keyFile, "node-1")
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("exists, will not overwrite"), again.stderr)
        XCTAssertEqual(again.stderr.split(separator: "\n").count, 1, again.stderr)

        let printed = try netcache("keygen", directory.appendingPathComponent("other.key").path, "other")
        XCTAssertEqual(printed.status, 0)
        XCTAssertTrue(printed.output.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let bits = try openssl("rsa", "-noout", "-text", "-in", directory.appendingPathComponent("other.key").path)
        XCTAssertTrue(bits.output.contains("3072 bit"), bits.output)
    }
}
