import Prometheus

/// What `GET /metrics` reports, in the Prometheus text format (swift-prometheus): requests
/// by route, method and status, their durations, bytes in and out, what a mirror asked
/// upstream, and what the store holds (`StoreCensus`).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let received: Counter
    private let sent: Counter
    let blobs: Gauge
    let bytesStored: Gauge
    let entries: Gauge
    let healthChecks: Counter
    /// Misses answered by a transfer from upstream that an earlier miss of the same blob
    /// started (under way, or just ended and not yet stored), rather than by a new one:
    /// what a mirror saves its upstream.
    let sharedTransfers: Counter

    /// Request durations from a millisecond to ten minutes (a large blob).
    private static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10), .seconds(60), .seconds(600)]

    init() {
        received = registry.makeCounter(descriptor: Self.name("received", unit: "bytes", "Request body bytes received."))
        sent = registry.makeCounter(descriptor: Self.name("sent", unit: "bytes", "Response body bytes sent."))
        blobs = registry.makeGauge(descriptor: Self.name("store_blobs", unit: "", "Blobs in the store, at the last census."))
        bytesStored = registry.makeGauge(descriptor: Self.name("store", unit: "bytes", "Bytes of blobs in the store, at the last census."))
        entries = registry.makeGauge(descriptor: Self.name("shadir_entries", unit: "", "shadir entries, at the last census."))
        healthChecks = registry.makeCounter(descriptor: Self.name("health_checks", unit: "total", "Checks of every backend made for /health."))
        sharedTransfers = registry.makeCounter(
            descriptor: Self.name("upstream_shared", unit: "total", "A mirror's blob misses answered by a transfer from upstream an earlier miss started."))
    }

    private static func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "netcache", metricName: metric, unitName: unit, helpText: help)
    }

    /// One answered request; `route` is what the path is (shacache, shadir, health, ...).
    func request(route: String, method: String, status: Int, received bytesIn: Int, sent bytesOut: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: Self.name("requests", unit: "total", "Requests answered."), labels: labels).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", unit: "seconds", "Time from a request's head to the end of its answer."), labels: [("route", route)],
            buckets: Self.buckets
        ).record(duration)
        received.increment(by: Int64(bytesIn))
        sent.increment(by: Int64(bytesOut))
    }

    /// A mirror's trip upstream for a blob or a key: hit (it had it), miss (404) or error.
    func upstream(_ kind: String, _ outcome: String) {
        registry.makeCounter(descriptor: Self.name("upstream", unit: "total", "A mirror's requests to upstream, by outcome."), labels: [("kind", kind), ("outcome", outcome)])
            .increment()
    }

    /// The route a path belongs to, for labels that stay few whatever the paths.
    static func route(of path: String, basePath: String) -> String {
        let path = path.hasPrefix(basePath) ? String(path.dropFirst(basePath.count)) : path
        for route in ["shacache", "shadir", "health", "metrics"] where path == "/" + route || path.hasPrefix("/" + route + "/") {
            return route
        }
        return "other"
    }
}
