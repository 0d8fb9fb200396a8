import CLinux
import NetcacheClient
import Foundation

/// Open descriptors of the directories on the path to the entry being written, below a
/// base directory: every entry is then created relative to its own parent, by a single
/// name, so nothing resolves through the process's working directory or through a
/// symlink (each directory is opened with `O_NOFOLLOW`).
///
/// Archives list a directory's entries together, so moving from one entry to the next
/// opens at most the directories that differ.
final class DirectoryCursor {
    private let base: Int32
    private var names: [String] = []
    private var descriptors: [Int32] = []

    /// A component is missing, or is not a directory (a symlink included): what the tree
    /// holds contradicts the path, unlike a failure of the file system itself.
    struct NotADirectory: Error, CustomStringConvertible {
        let description: String
    }

    init(base: Int32) {
        self.base = base
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }

    /// The directory `components` names, relative to the base (empty: the base itself).
    func open(_ components: ArraySlice<String>) throws -> Int32 {
        var common = 0
        // Bytes, not canonical equivalence: "é" and "e\u{301}" are two directories.
        while common < names.count, common < components.count, names[common].utf8.elementsEqual(components[components.startIndex + common].utf8) {
            common += 1
        }
        while names.count > common {
            names.removeLast()
            close(descriptors.removeLast())
        }
        for name in components.dropFirst(common) {
            guard isPlainComponent(name) else {
                throw ArchiveError("refusing the name \(name.debugDescription): not one component of a path")
            }
            let descriptor = openat(descriptors.last ?? base, name, netcache_o_path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard descriptor >= 0 else {
                let path = String((names + [name]).joined(separator: "/").debugDescription.dropFirst().dropLast())
                switch errno {
                case ENOTDIR, ELOOP: throw NotADirectory(description: "\(path) is not a directory")
                case ENOENT: throw NotADirectory(description: "\(path) does not exist")
                default: throw ArchiveError("cannot open \(path): \(String(cString: strerror(errno)))")
                }
            }
            names.append(name)
            descriptors.append(descriptor)
        }
        return descriptors.last ?? base
    }
}
