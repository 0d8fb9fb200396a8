import Logging

extension StorageLocation {
    /// Runs `body` on the administration of this location's backends, locked.
    public func administer<T>(logger: Logger, _ body: (CacheAdministration) async throws -> T) async throws -> T {
        try await withBackends(readOnly: false, create: false, option: "--data", logger: logger) { backends in
            try await body(CacheAdministration(backends: backends))
        }
    }
}
