import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// The blob store and the entry directory a server, or `netcache migrate`, works on, chosen
/// each on its own, with the connections they need while in use.
public struct StorageBackends: Sendable {
    public let blobs: any BlobStorage
    public let entries: any EntryDirectory
    private let s3: S3BlobStore?
    private let http: HTTPClient?
    private let postgres: PostgresEntryDirectory?
    private let logger: Logger

    /// `staging` must belong to `dataDirectory`, whose lock the caller holds.
    public init(blobs: BlobBackend, entries: EntryBackend, dataDirectory: URL, staging: Staging, logger: Logger) throws {
        self.logger = logger
        switch blobs {
        case .dataDirectory:
            self.blobs = try FileBlobStore(dataDirectory: dataDirectory, staging: staging)
            s3 = nil
            http = nil
        case .s3(let settings):
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(10))
            // One connection per transfer in flight; S3 handles many.
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
            configuration.decompression = .disabled
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration, backgroundActivityLogger: logger)
            let store = S3BlobStore(settings: settings, http: http, staging: staging)
            self.blobs = store
            s3 = store
            self.http = http
        }
        switch entries {
        case .dataDirectory:
            self.entries = try SQLiteEntryDirectory(dataDirectory: dataDirectory)
            postgres = nil
        case .postgresql(let address):
            let directory = PostgresEntryDirectory(address: address, logger: logger)
            self.entries = directory
            postgres = directory
        }
    }

    /// What a server runs beside its listener for these backends.
    var services: [any Service] {
        s3.map { [S3UploadSweep(store: $0, logger: logger)] } ?? []
    }

    /// Runs `body` while the backends' connections are served, once each backend answered:
    /// a wrong address or credential is said before anything else is done.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let postgres { group.addTask { await postgres.client.run() } }
            do {
                try await postgres?.prepare()
                try await s3?.checkBucket()
                let result = try await body()
                group.cancelAll()
                try await http?.shutdown()
                return result
            } catch {
                group.cancelAll()
                try? await http?.shutdown()
                throw error
            }
        }
    }
}
