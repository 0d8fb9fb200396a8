import Foundation

/// Whether a path is a netcache data directory already. Only the commands that fill one
/// (`serve`, `import`, `mirror pull --data`, `migrate --to`) may create it: for every other
/// command a mistyped path would otherwise be created and look like an empty cache.
public enum DataDirectoryPresence {
    /// What every opening leaves in a data directory; one of them is enough.
    static let markers = ["lock", "shadir.sqlite", "shacache"]

    /// Throws, naming the path and `option`, unless `directory` is a data directory.
    public static func requireExisting(_ directory: URL, option: String) throws {
        let path = directory.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw StorageError("\(option) \(path): \(String(cString: strerror(errno))); only serve, import, mirror pull and migrate --to create a data directory")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else { throw StorageError("\(option) \(path): not a directory") }
        guard markers.contains(where: { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }) else {
            throw StorageError("\(option) \(path): not a netcache data directory (it holds no lock, shadir.sqlite or shacache)")
        }
    }

    /// Whether there is nothing at `directory` yet: `serve` says when it creates one.
    public static func isAbsent(_ directory: URL) -> Bool {
        var status = stat()
        return lstat(directory.path, &status) != 0 && errno == ENOENT
    }
}
