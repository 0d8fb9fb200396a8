import Foundation
import XCTest

/// The fuzz targets' seed corpora, and every input a fuzzer found that crashed or hung
/// (saved in fixtures/fuzz/<target> by scripts/fuzz.sh), replayed through the same entry
/// point on every run of the suite.
final class FuzzCorpusTests: XCTestCase {
    func testEveryCorpusReplaysWithoutACrash() throws {
        let binary = Binaries.productsDirectory.appendingPathComponent("netcache-fuzz")
        for target in ["shadir-entry", "json", "ini", "criterion", "binary-entry", "relocation-entry"] {
            let corpus = Binaries.packageRoot.appendingPathComponent("fixtures/fuzz/" + target).path
            let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus).count
            XCTAssertGreaterThan(inputs, 0, target)
            let result = try NetcacheTests.run(binary, [corpus], environment: ["NETCACHE_FUZZ_TARGET": target])
            XCTAssertEqual(result.status, 0, "\(target): \(result.stderr)")
            XCTAssertEqual(result.output, "\(target): \(inputs) inputs replayed\n")
        }
    }
}
