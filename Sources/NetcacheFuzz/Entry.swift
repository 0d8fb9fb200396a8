import Foundation
import NetcacheClient

#if FUZZING
/// libFuzzer's entry point, when built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM names an executable's entry point after its module and points `main` at it, so
/// this hands the command line to libFuzzer's driver itself.
@_cdecl("netcache_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, fuzzOne)
}
#else
/// Without libFuzzer: replays the files or directories given, so that the seed corpus and
/// every input a fuzzer once crashed on run in the ordinary test suite.
@main
struct Replay {
    static func main() throws {
        let target = FuzzTarget.selected
        var count = 0
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                StandardError.write("netcache-fuzz: no such file: \(argument)\n")
                exit(66)
            }
            let paths = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: argument).sorted().map { argument + "/" + $0 }
                : [argument]
            for path in paths {
                target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs replayed")
    }
}
#endif
