import Foundation

/// A network namespace of the test's own, joined to this one by a veth pair, with its own
/// `/etc/hosts`: `ip netns exec` mounts `/etc/netns/NAME/hosts` over it, so a name can
/// resolve to an address of the test's choosing without DNS.
final class NetworkNamespace {
    let name: String
    /// This side's address, and the namespace's, on the veth pair.
    let outerAddress: String
    let innerAddress: String
    private let outerLink: String
    private var hostsDirectory: URL { URL(fileURLWithPath: "/etc/netns/\(name)") }

    init(hosts: (_ innerAddress: String) -> String) throws {
        guard getuid() == 0 else { throw TestFailure("network namespaces need root; run the suite as root, as CI does") }
        let tag = String(UInt32.random(in: 0..<0xFFFFFF), radix: 16)
        let subnet = Int.random(in: 1..<255)
        name = "netcache-\(tag)"
        outerLink = "nco\(tag)"
        outerAddress = "10.78.\(subnet).2"
        innerAddress = "10.78.\(subnet).1"
        try ip("netns", "add", name)
        do {
            try FileManager.default.createDirectory(at: hostsDirectory, withIntermediateDirectories: true)
            try hosts(innerAddress).write(to: hostsDirectory.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
            let innerLink = "nci\(tag)"
            try ip("link", "add", outerLink, "type", "veth", "peer", "name", innerLink)
            try ip("link", "set", innerLink, "netns", name)
            try ip("addr", "add", "\(outerAddress)/24", "dev", outerLink)
            try ip("link", "set", outerLink, "up")
            try ip("netns", "exec", name, "ip", "addr", "add", "\(innerAddress)/24", "dev", innerLink)
            try ip("netns", "exec", name, "ip", "link", "set", innerLink, "up")
            try ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        } catch {
            remove()
            throw error
        }
    }

    deinit {
        remove()
    }

    /// Runs `executable ARGS` inside the namespace, killed after `timeout` seconds.
    func run(_ executable: URL, _ arguments: [String], timeout: Int) throws -> CommandResult {
        try NetcacheTests.run(URL(fileURLWithPath: "/usr/bin/timeout"), [String(timeout), Self.ip.path, "netns", "exec", name, executable.path] + arguments)
    }

    private func remove() {
        _ = try? NetcacheTests.run(Self.ip, ["link", "del", outerLink])
        _ = try? NetcacheTests.run(Self.ip, ["netns", "del", name])
        try? FileManager.default.removeItem(at: hostsDirectory)
    }

    private static let ip = URL(fileURLWithPath: "/usr/sbin/ip").resolvingSymlinksInPath()

    private func ip(_ arguments: String...) throws {
        let result = try NetcacheTests.run(Self.ip, arguments)
        guard result.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")): \(result.stderr)") }
    }
}
