import Foundation

/// nginx from Debian, running the load-balancer configuration the README prints (the block
/// after `<!-- nginx-load-balancer -->`), with its two upstreams and its port replaced by
/// the test's. Stopped by process id.
final class NginxBalancer {
    let process = Process()
    let url: String

    init(upstreams: [String], directory: URL) throws {
        let readme = try String(contentsOf: Binaries.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let marker = readme.range(of: "<!-- nginx-load-balancer -->"),
            let start = readme.range(of: "```nginx\n", range: marker.upperBound..<readme.endIndex),
            let end = readme.range(of: "```", range: start.upperBound..<readme.endIndex)
        else { throw TestFailure("README.md has no nginx block after <!-- nginx-load-balancer -->") }
        var snippet = String(readme[start.upperBound..<end.lowerBound])
        let port = try Self.port(of: SilentListener.closedPortURL())
        for (documented, actual) in zip(["127.0.0.1:8081", "127.0.0.1:8082"], upstreams.map { $0.replacingOccurrences(of: "http://", with: "") }) {
            guard snippet.contains(documented) else { throw TestFailure("the README's nginx block names no \(documented)") }
            snippet = snippet.replacingOccurrences(of: documented, with: actual)
        }
        guard snippet.contains("listen 8080;") else { throw TestFailure("the README's nginx block has no `listen 8080;`") }
        snippet = snippet.replacingOccurrences(of: "listen 8080;", with: "listen 127.0.0.1:\(port);")
        let prefix = directory.appendingPathComponent("nginx")
        try FileManager.default.createDirectory(at: prefix, withIntermediateDirectories: true)
        let configuration = prefix.appendingPathComponent("nginx.conf")
        try """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            master_process on;
            worker_processes 1;
            pid \(prefix.path)/nginx.pid;
            error_log \(prefix.path)/error.log;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(prefix.path)/body;
                proxy_temp_path \(prefix.path)/proxy;
                \(snippet)
            }
            """.write(to: configuration, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-p", prefix.path, "-c", configuration.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let url = "http://127.0.0.1:\(port)"
        self.url = url
        try waitUntil(timeout: 10) { (try? TestHTTP.request("GET", url + "/shadir/ready").status) == 404 }
    }

    deinit {
        stop()
    }

    func stop() {
        process.terminateAndWait()
    }

    private static func port(of url: String) throws -> Int {
        guard let port = URLComponents(string: url)?.port else { throw TestFailure("no port in \(url)") }
        return port
    }
}
