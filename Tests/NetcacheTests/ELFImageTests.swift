import Foundation
import XCTest

@testable import BinaryCache

/// The ELF reader against this machine's own binaries.
final class ELFImageTests: XCTestCase {
    private func image(_ path: String) throws -> ELFImage? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TestFailure("cannot open \(path)") }
        defer { close(descriptor) }
        return try ELFImage(descriptor: descriptor)
    }

    func testAProgramSaysWhatItNeeds() throws {
        let ls = try XCTUnwrap(try image("/bin/ls"))
        XCTAssertEqual(ls.bits, 64)
        XCTAssertEqual(ls.machine, 62, "EM_X86_64")
        XCTAssertTrue(ls.needed.contains("libc.so.6"), "\(ls.needed)")
        XCTAssertTrue(ls.versionsNeeded["libc.so.6"]?.contains("GLIBC_2.2.5") ?? false, "\(ls.versionsNeeded)")
        XCTAssertNil(ls.soname)
    }

    func testALibrarySaysWhatItDefines() throws {
        let libc = try XCTUnwrap(try image("/lib/x86_64-linux-gnu/libc.so.6"))
        XCTAssertEqual(libc.soname, "libc.so.6")
        XCTAssertTrue(libc.versionsDefined.contains("GLIBC_2.34"), "\(libc.versionsDefined)")
        XCTAssertFalse(libc.versionsDefined.contains("GLIBC_2.99"))
    }

    func testAnythingElseIsNotAnImage() throws {
        XCTAssertNil(try image("/etc/os-release"))
    }
}
