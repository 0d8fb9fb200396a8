import CLinux
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

    init(base: Int32) {
        self.base = base
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }

    /// The directory `components` names, relative to the base (empty: the base itself).
    func open(_ components: ArraySlice<String>) throws -> Int32 {
        var common = 0
        while common < names.count, common < components.count, names[common] == components[components.startIndex + common] {
            common += 1
        }
        while names.count > common {
            names.removeLast()
            close(descriptors.removeLast())
        }
        for name in components.dropFirst(common) {
            let descriptor = openat(descriptors.last ?? base, name, netcache_o_path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard descriptor >= 0 else {
                let reason = errno == ENOTDIR || errno == ELOOP ? "not a directory" : String(cString: strerror(errno))
                throw ArchiveError("cannot open \((names + [name]).joined(separator: "/")): \(reason)")
            }
            names.append(name)
            descriptors.append(descriptor)
        }
        return descriptors.last ?? base
    }
}
