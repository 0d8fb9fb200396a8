import Foundation
import NIOCore
import NetcacheProtocol
import _NIOFileSystem

/// The embedded default: one file per blob, named by its SHA-512, under `<data>/shacache`.
/// Staged uploads are fsynced, then renamed into place.
public struct FileBlobStore: BlobStorage {
    public let root: URL
    public let staging: Staging

    public init(dataDirectory: URL, staging: Staging) throws {
        root = dataDirectory.appendingPathComponent("shacache", isDirectory: true)
        self.staging = staging
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Where the blob with this address lives (two-character fan-out keeps directories small).
    public func path(for sha512: String) -> String {
        Self.path(for: sha512, inDataDirectory: root.deletingLastPathComponent())
    }

    /// The same, for readers that must not open the store (which empties staging): an
    /// export from the data directory of a running server.
    static func path(for sha512: String, inDataDirectory dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("shacache").appendingPathComponent(String(sha512.prefix(2))).appendingPathComponent(sha512).path
    }

    public func size(of sha512: String) async throws -> Int? {
        let path = path(for: sha512)
        return try await MetadataCalls.run {
            var status = stat()
            guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Int(status.st_size)
        }
    }

    public func lastUsed(_ sha512: String) async throws -> Date? {
        let path = path(for: sha512)
        return try await MetadataCalls.run {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(max(status.st_mtim.tv_sec, status.st_atim.tv_sec)))
        }
    }

    public func touch(_ sha512: String) async throws {
        let path = path(for: sha512)
        try await MetadataCalls.run {
            guard utimes(path, nil) == 0 || errno == ENOENT else {
                throw StorageError("cannot touch blob \(sha512.prefix(16))…: \(String(cString: strerror(errno)))")
            }
        }
    }

    public func keep(_ blob: StagedBlob, as sha512: String) async throws {
        let (destination, root) = (path(for: sha512), root)
        try await Staging.pool.runIfActive {
            try blob.synchronize()
            let directory = (destination as NSString).deletingLastPathComponent
            if mkdir(directory, 0o755) == 0 {
                try Self.synchronizeDirectory(root.path)
            } else if errno != EEXIST {
                throw StorageError("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
            // Already stored: its last use is renewed, and the new copy dropped.
            if utimes(destination, nil) == 0 {
                blob.discard()
            } else if errno != ENOENT {
                throw StorageError("cannot touch blob \(sha512.prefix(16))…: \(String(cString: strerror(errno)))")
            } else {
                try blob.move(to: destination)
                // A 201 means durable: the new name too, not only the bytes.
                try Self.synchronizeDirectory(directory)
            }
        }
    }

    public func read(_ sha512: String, range: Range<Int>, to consume: (ByteBuffer) async throws -> Void) async throws {
        try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path(for: sha512))) { handle in
            var offset = Int64(range.lowerBound)
            let end = Int64(range.upperBound)
            while offset < end {
                let chunk = try await handle.readChunk(fromAbsoluteOffset: offset, length: .bytes(min(Self.chunkLength, end - offset)))
                // Blobs never change once stored: a short read means the file is not one.
                guard chunk.readableBytes > 0 else { throw StorageError("blob \(sha512.prefix(16))… shorter than its size") }
                offset += Int64(chunk.readableBytes)
                try await consume(chunk)
            }
        }
    }

    /// What a download holds of a blob at a time (`BlobBody`).
    static let chunkLength: Int64 = 128 << 10

    public func remove(_ sha512: String) async throws {
        let path = path(for: sha512)
        try await MetadataCalls.run {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw StorageError("cannot remove blob \(sha512.prefix(16))…: \(String(cString: strerror(errno)))")
            }
        }
    }

    public func forEachAddress(_ body: (String) async throws -> Void) async throws {
        let root = root
        let fanOut = try await MetadataCalls.run { try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.count == 2 }.sorted() }
        for directory in fanOut {
            let names = try await MetadataCalls.run {
                try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path).sorted()
            }
            for name in names where name.hasPrefix(directory) && isSHA512Hex(name) {
                try await body(name)
            }
        }
    }

    public func checkHealth() async throws {
        let (root, freeSpace) = (root, freeSpace)
        try await MetadataCalls.run {
            guard access(root.path, W_OK) == 0 else { throw StorageError("\(root.path): \(String(cString: strerror(errno)))") }
            guard try freeSpace.admits(0) else { throw StorageError("less than --min-free-space left on \(freeSpace.directory)") }
        }
    }

    public func withLocalFile<T>(_ sha512: String, _ body: (String) async throws -> T) async throws -> T {
        try await body(path(for: sha512))
    }

    private static func synchronizeDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
