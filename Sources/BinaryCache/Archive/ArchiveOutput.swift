import CArchive

/// Where a libarchive writer sends its bytes: a Swift closure. libarchive only sees a
/// failed write, so the closure's error is kept here for the caller to throw.
final class ArchiveOutput {
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private(set) var failure: (any Error)?

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
    }

    /// Opens `archive` for writing into this output; it must not outlive the output.
    func open(_ archive: OpaquePointer) -> Int32 {
        archive_write_open2(archive, Unmanaged.passUnretained(self).toOpaque(), nil, archiveOutputWrite, nil, nil)
    }

    fileprivate func emit(_ bytes: UnsafeRawBufferPointer) -> Int {
        do {
            try sink(bytes)
            return bytes.count
        } catch {
            failure = error
            return -1
        }
    }
}

private func archiveOutputWrite(_: OpaquePointer?, context: UnsafeMutableRawPointer?, buffer: UnsafeRawPointer?, length: Int) -> Int {
    Unmanaged<ArchiveOutput>.fromOpaque(context!).takeUnretainedValue().emit(UnsafeRawBufferPointer(start: buffer, count: length))
}
