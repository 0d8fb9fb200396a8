import Foundation

/// Counts what a pack writes, for a progress display: files and bytes so far.
final class PackCounter: PackObserver {
    private let report: (_ files: Int, _ bytes: Int) -> Void
    private var files = 0
    private var bytes = 0

    init(report: @escaping (_ files: Int, _ bytes: Int) -> Void) {
        self.report = report
    }

    func packedFile(_ relative: String, descriptor: Int32) throws {
        var status = stat()
        if fstat(descriptor, &status) == 0 { bytes += Int(status.st_size) }
        files += 1
        report(files, bytes)
    }

    func packedSymlink(_ relative: String, target: String) {
        files += 1
        report(files, bytes)
    }

    func packedHardLink(_ relative: String, to first: String) {
        files += 1
        report(files, bytes)
    }
}
