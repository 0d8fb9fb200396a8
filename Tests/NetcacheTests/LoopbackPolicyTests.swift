import Foundation
import XCTest

/// Anonymous uploads from this host only: decided on the address the server binds, never
/// on how `--listen` spells it.
final class LoopbackPolicyTests: XCTestCase {
    /// A name that starts like a loopback address but resolves to an interface the network
    /// reaches: the server refuses to start without credentials, as for any such address.
    func testANameThatOnlyLooksLikeLoopbackGetsNoAnonymousUploads() throws {
        let namespace = try NetworkNamespace { "\($0) 127.0.0.1.lookalike.example\n" }
        let data = try TemporaryDirectory.make().appendingPathComponent("data")
        let result = try namespace.run(Binaries.netcache, ["serve", "--data", data.path, "--listen", "127.0.0.1.lookalike.example:0"], timeout: 20)
        XCTAssertEqual(result.status, 1, result.output + result.stderr)
        XCTAssertTrue(result.stderr.contains("refusing to serve uploads to the network without credentials"), result.stderr)
        XCTAssertFalse(result.output.contains("listening on"), result.output)
    }

    func testLoopbackByNameOrNumberTakesAnonymousUploads() throws {
        for listen in ["localhost:0", "127.0.0.2:0", "[::1]:0"] {
            let server = try ServerProcess(arguments: ["--listen", listen])
            let answer = try TestHTTP.request("POST", server.shacacheURL, body: Array("local".utf8))
            XCTAssertEqual(answer.status, 201, "\(listen): \(answer.text)")
            server.stop()
        }
    }
}
