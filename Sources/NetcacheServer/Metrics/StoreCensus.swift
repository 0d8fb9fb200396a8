import Logging
import ServiceLifecycle

/// Counts what the store holds for `/metrics`, at start and then every `interval`: walking
/// a store costs too much to do on each scrape.
struct StoreCensus: Service {
    let backends: StorageBackends
    let metrics: ServerMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (blobs, bytes) = try await backends.blobs.totals()
                metrics.blobs.set(Int64(blobs))
                metrics.bytesStored.set(Int64(bytes))
                metrics.entries.set(Int64(try await backends.entries.count()))
            } catch {
                logger.warning("metrics: counting the store failed: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
