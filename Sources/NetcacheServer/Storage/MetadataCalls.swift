import NIOPosix

/// Where the data directory's metadata calls run (stat, statvfs, utimes, unlink, directory
/// listings): on threads of their own. On Swift's cooperative pool (one thread per core, two
/// here) a file system slow to answer, a failing disk or a hung network mount, would stall
/// every request, `/metrics` included; on the upload pool they would wait behind writes.
enum MetadataCalls {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(_ call: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(call)
    }
}
