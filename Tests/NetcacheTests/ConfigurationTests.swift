import BinaryCache
import NetcacheClient
import XCTest

final class ConfigurationTests: XCTestCase {
    func testSlaposCfgNetworkcacheSection() throws {
        let text = """
            [slapos]
            software_root = /opt/slapgrid

            [networkcache]
            # comment
            ; another comment
            signature-private-key-file = /etc/opt/slapos/signature.key
            signature-certificate-list =
              -----BEGIN CERTIFICATE-----
              MIIB
              -----END CERTIFICATE-----
            download-cache-url = http://shacache.example/shacache
            download-dir-url: http://shadir.example/shadir
            Upload-Cache-URL = https://www.shacache.example/shacache
            upload-dir-url = %(base)s/shadir
            base = https://www.shacache.example
            shacache-ca-file = /ca.pem
            shacache-cert-file = /cert.pem
            shacache-key-file = /key.pem
            shadir-ca-file = /dca.pem
            shadir-cert-file = /dcert.pem
            shadir-key-file = /dkey.pem
            download-binary-cache-url = http://b/shacache
            download-binary-dir-url = http://b/shadir
            upload-binary-cache-url = https://b/shacache
            upload-binary-dir-url = https://b/shadir
            binary-cache-url-blacklist =
              http://git.erp5.org/gitweb/slapos.git/blob_plain/HEAD
              http://git.erp5.org/gitweb/slapos.git/blob_plain/refs/heads
            upload-to-binary-cache-url-blacklist = http://a
            download-from-binary-cache-url-blacklist =
              http://c

              http://d
            download-from-binary-cache-force-url-list = http://forced
            percent = 100%%
            """
        let file = try INIFile(text: text)
        let configuration = NetworkCacheConfiguration(file: file)
        XCTAssertEqual(configuration.signaturePrivateKeyFile, "/etc/opt/slapos/signature.key")
        XCTAssertEqual(configuration.signatureCertificateList, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
        XCTAssertEqual(configuration.downloadCacheURL, "http://shacache.example/shacache")
        XCTAssertEqual(configuration.downloadDirURL, "http://shadir.example/shadir")
        XCTAssertEqual(configuration.uploadCacheURL, "https://www.shacache.example/shacache")
        XCTAssertEqual(configuration.uploadDirURL, "https://www.shacache.example/shadir")
        XCTAssertEqual(configuration.shacacheTLS, TLSSettings(caFile: "/ca.pem", certificateFile: "/cert.pem", keyFile: "/key.pem"))
        XCTAssertEqual(configuration.shadirTLS, TLSSettings(caFile: "/dca.pem", certificateFile: "/dcert.pem", keyFile: "/dkey.pem"))
        XCTAssertEqual(configuration.downloadBinaryCacheURL, "http://b/shacache")
        XCTAssertEqual(configuration.downloadBinaryDirURL, "http://b/shadir")
        XCTAssertEqual(configuration.uploadBinaryCacheURL, "https://b/shacache")
        XCTAssertEqual(configuration.uploadBinaryDirURL, "https://b/shadir")
        XCTAssertEqual(configuration.binaryCacheURLBlacklist, [
            "http://git.erp5.org/gitweb/slapos.git/blob_plain/HEAD", "http://git.erp5.org/gitweb/slapos.git/blob_plain/refs/heads",
        ])
        XCTAssertEqual(configuration.uploadToBinaryCacheURLBlacklist, ["http://a"])
        XCTAssertEqual(configuration.downloadFromBinaryCacheURLBlacklist, ["http://c", "http://d"])
        XCTAssertEqual(configuration.downloadFromBinaryCacheForceURLList, ["http://forced"])
        XCTAssertEqual(file.value("percent", in: "networkcache"), "100%")
        XCTAssertEqual(file.value("software_root", in: "slapos"), "/opt/slapgrid")
    }

    func testDefaultSectionShowsThrough() throws {
        let file = try INIFile(text: "[DEFAULT]\nroot = /srv\n[networkcache]\nupload-dir-url = http://x%(root)s\n")
        XCTAssertEqual(file.value("upload-dir-url", in: "networkcache"), "http://x/srv")
        XCTAssertEqual(file.value("root", in: "networkcache"), "/srv")
    }

    func testMalformedLinesAreErrorsWithTheirLineNumber() {
        XCTAssertThrowsError(try INIFile(text: "key = value\n", origin: "slapos.cfg")) { error in
            XCTAssertEqual("\(error)", "slapos.cfg:1: a value before any [section]")
        }
        XCTAssertThrowsError(try INIFile(text: "[a]\nno separator here\n", origin: "slapos.cfg")) { error in
            XCTAssertTrue("\(error)".hasPrefix("slapos.cfg:2:"))
        }
    }

    func testMissingFileIsAClearError() throws {
        let result = try netcache("download", "-c", "/nonexistent/slapos.cfg", "--key", "k")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("/nonexistent/slapos.cfg"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }
}

/// The binary cache's own keys in `[networkcache]`.
final class BinaryCacheKeyTests: XCTestCase {
    private func settings(_ lines: String) throws -> BinaryCacheSettings {
        try BinaryCacheSettings(file: INIFile(text: "[networkcache]\n" + lines))
    }

    func testSwitchesAndRulesAreRead() throws {
        let defaults = try settings("")
        XCTAssertEqual(defaults.legacy, true)
        XCTAssertEqual(defaults.relocate, true)
        XCTAssertEqual(defaults.compatibility, .distribution)
        let set = try settings("binary-cache-legacy-format = off\nbinary-cache-relocate = False\nbinary-cache-compatibility = abi\n")
        XCTAssertEqual(set.legacy, false)
        XCTAssertEqual(set.relocate, false)
        XCTAssertEqual(set.compatibility, .abi)
    }

    func testAValueThatIsNeitherIsAnError() throws {
        XCTAssertThrowsError(try settings("binary-cache-relocate = sometimes\n")) { error in
            XCTAssertEqual("\(error)", "binary-cache-relocate: expected true or false, got 'sometimes'")
        }
        XCTAssertThrowsError(try settings("binary-cache-compatibility = kernel\n")) { error in
            XCTAssertEqual("\(error)", "binary-cache-compatibility: expected distribution or abi, got 'kernel'")
        }
    }
}
