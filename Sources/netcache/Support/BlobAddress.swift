import ArgumentParser
import NetcacheProtocol

/// A blob's SHA-512 on the command line: 128 hexadecimal characters, kept lowercase.
struct BlobAddress: ExpressibleByArgument, CustomStringConvertible {
    let description: String

    init?(argument: String) {
        guard isSHA512Hex(argument) else { return nil }
        description = argument.lowercased()
    }
}
