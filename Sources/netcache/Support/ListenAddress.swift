import ArgumentParser

/// `--listen`: `HOST:PORT` (`[::1]:8080` for IPv6; port 0 picks a free one), or
/// `unix:PATH` for a Unix socket.
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible {
    enum Kind {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    let kind: Kind
    let description: String

    init?(argument: String) {
        description = argument
        if argument.hasPrefix("unix:") {
            let path = String(argument.dropFirst("unix:".count))
            guard path.hasPrefix("/") else { return nil }
            kind = .unix(path: path)
            return
        }
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        kind = .tcp(host: host, port: port)
    }
}
