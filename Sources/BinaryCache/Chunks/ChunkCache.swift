import Foundation
import NetcacheClient
import NetcacheProtocol

/// The node's chunk cache (`binary-cache-chunk-cache`): a directory of chunks, one file
/// each named by its SHA-512, kept by installs and trimmed to a size, least recently used
/// first.
///
/// Best effort: a cache that cannot be written (full, read-only) only stops growing, and a
/// file that is not what its name says is removed when read.
final class ChunkCache: ChunkSeed, @unchecked Sendable {
    let path: String
    let limit: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var names: Set<String>

    var name: String { "chunk cache \(path)" }

    /// Creates the directory when missing (private to this user).
    init(path: String, limit: Int) throws {
        self.path = path
        self.limit = limit
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw ConfigurationError("binary-cache-chunk-cache: cannot create \(path): \(String(cString: strerror(errno)))")
        }
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ConfigurationError("binary-cache-chunk-cache: cannot open \(path): \(String(cString: strerror(errno)))")
        }
        names = Set(Self.list(descriptor).map(\.name))
    }

    deinit {
        close(descriptor)
    }

    func holds(_ chunk: ChunkReference) -> Bool {
        lock.withLock { names.contains(chunk.sha512) }
    }

    func bytes(of chunk: ChunkReference) -> [UInt8]? {
        guard holds(chunk) else { return nil }
        let file = openat(descriptor, chunk.sha512, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var status = stat()
        guard fstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG, Int(status.st_size) == chunk.size else {
            forget(chunk)
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: chunk.size)
        guard bytes.withUnsafeMutableBytes({ preadFully(file, $0, at: 0) }) == chunk.size,
            StreamingDigest.sha512Hex(of: bytes) == chunk.sha512
        else {
            forget(chunk)
            return nil
        }
        // Its last use, for trimming.
        futimens(file, nil)
        return bytes
    }

    private func forget(_ chunk: ChunkReference) {
        unlinkat(descriptor, chunk.sha512, 0)
        lock.withLock { _ = names.remove(chunk.sha512) }
    }

    /// Keeps a chunk just fetched; why not, when it could not.
    @discardableResult
    func keep(_ chunk: ChunkReference, bytes: [UInt8]) -> String? {
        guard !holds(chunk) else { return nil }
        let temporary = ".partial-\(getpid())-\(chunk.sha512.prefix(16))"
        let file = openat(descriptor, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { return "cannot write in \(path): \(String(cString: strerror(errno)))" }
        let written = bytes.withUnsafeBytes { writeFully(file, $0) }
        let closed = close(file) == 0 ? nil : errno
        let failure = (written ?? closed).map { String(cString: strerror($0)) }
        guard failure == nil, renameat(descriptor, temporary, descriptor, chunk.sha512) == 0 else {
            let reason = failure ?? String(cString: strerror(errno))
            unlinkat(descriptor, temporary, 0)
            return "cannot write in \(path): \(reason)"
        }
        lock.withLock { _ = names.insert(chunk.sha512) }
        return nil
    }

    /// Removes the least recently used chunks until the cache holds at most `limit` bytes,
    /// and what killed processes left half-written.
    func trim() {
        var files = Self.list(descriptor)
        for partial in files where partial.name.hasPrefix(".partial-") { unlinkat(descriptor, partial.name, 0) }
        files.removeAll { $0.name.hasPrefix(".") }
        // Saturating: files another user made sparse and huge must not trap the sum.
        var total = files.reduce(0) { $0.addingReportingOverflow($1.size).overflow ? Int.max : $0 + $1.size }
        for file in files.sorted(by: { $0.used < $1.used }) where total > limit {
            if unlinkat(descriptor, file.name, 0) == 0 { total -= file.size }
        }
    }

    private static func list(_ descriptor: Int32) -> [(name: String, size: Int, used: Int)] {
        ((try? directoryEntries(of: descriptor)) ?? []).compactMap { raw in
            let name = String(decoding: raw.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var status = stat()
            guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
            return (name, Int(status.st_size), status.st_mtim.tv_sec)
        }
    }
}
