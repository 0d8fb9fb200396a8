import NIOCore

/// Whether an address can only be reached from this host, decided on the address's bytes,
/// never on how it was spelt: `127.0.0.1.example.com` is a name, and may resolve anywhere.
enum LoopbackAddress {
    static func contains(_ address: SocketAddress) -> Bool {
        switch address {
        case .unixDomainSocket:
            return true
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
            // ::ffff:127.x.y.z, an IPv4 loopback address on an IPv6 socket.
            let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
            return bytes == loopback || (Array(bytes.prefix(12)) == mappedPrefix && bytes[12] == 127)
        }
    }

    /// Whether `host`, resolved as the server will bind it, is a loopback address.
    static func resolves(_ host: String, port: Int) -> Bool {
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: port) else { return false }
        return contains(address)
    }
}
