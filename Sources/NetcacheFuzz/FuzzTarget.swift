import BinaryCache
import Foundation
import NetcacheClient
import NetcacheProtocol

/// The parsers that read what the network or an operator hands netcache, each fed one
/// input: whatever the bytes, they must return or throw, never crash or hang.
enum FuzzTarget: String, CaseIterable {
    /// A shadir PUT body, as the server validates it.
    case shadirEntry = "shadir-entry"
    /// Python-compatible JSON, as entries and metadata are read.
    case json
    /// slapos.cfg.
    case ini
    /// A download criterion, `KEY{==,<=,>=,<,>,<<,>>}JSON`.
    case criterion
    /// A binary-cache entry's fields, under both keys.
    case binaryEntry = "binary-entry"
    /// A netcache entry's fields, a NUL, then its relocation manifest: through
    /// compatibility and relocation planning, as install reads them.
    case relocationEntry = "relocation-entry"

    /// `NETCACHE_FUZZ_TARGET` names the target.
    static var selected: FuzzTarget {
        let name = ProcessInfo.processInfo.environment["NETCACHE_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("netcache-fuzz: set NETCACHE_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(64)
        }
        return target
    }

    func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        switch self {
        case .shadirEntry:
            _ = try? ShadirEntry(validatingBody: input)
        case .json:
            guard let value = try? JSONValue(parsing: input) else { return }
            // What parses must serialise again, and parse to the same value.
            let again = try? JSONValue(parsing: value.pythonJSON)
            precondition(again == value, "JSON did not survive its own serialisation")
        case .ini:
            _ = try? INIFile(text: text)
        case .criterion:
            _ = try? Criterion(parsing: text)
        case .binaryEntry:
            guard let fields = (try? JSONValue(parsing: input))?.objectValue else { return }
            _ = BinaryEntry(fields: fields, legacyKey: false)
            _ = BinaryEntry(fields: fields, legacyKey: true)
        case .relocationEntry:
            RelocationFuzzing.run(input)
        }
    }
}
