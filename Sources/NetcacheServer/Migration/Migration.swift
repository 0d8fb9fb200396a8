import Foundation
import Logging

/// `netcache migrate`: copies every blob, then every entry, from one set of backends to
/// another. Each blob is verified against its SHA-512 on the way, each entry filed byte for
/// byte in its key's order. What the destination has is skipped, so a migration that was
/// interrupted is resumed by running it again, and one run beside a live source catches up.
public struct Migration {
    public struct Summary: Sendable, Equatable {
        public var blobsCopied = 0
        public var blobsPresent = 0
        /// Blobs whose bytes do not hash to their name: not copied.
        public var blobsCorrupt = 0
        public var entriesAdded = 0
        public var entriesPresent = 0
    }

    let source: StorageLocation
    let destination: StorageLocation
    let logger: Logger

    public init(from source: StorageLocation, to destination: StorageLocation, logger: Logger) {
        self.source = source
        self.destination = destination
        self.logger = logger
    }

    public func run(warn: @escaping (String) -> Void) async throws -> Summary {
        try await source.withBackends(readOnly: true, create: false, option: "--from", logger: logger) { from in
            try await destination.withBackends(readOnly: false, create: true, option: "--to", logger: logger) { to in
                var summary = Summary()
                // Blobs first: an entry copied is never one whose blob is not there yet.
                try await copyBlobs(from: from.blobs, to: to.blobs, into: &summary, warn: warn)
                try await copyEntries(from: from.entries, to: to.entries, into: &summary)
                return summary
            }
        }
    }

    private func copyBlobs(from source: any BlobStorage, to destination: any BlobStorage, into summary: inout Summary, warn: (String) -> Void) async throws {
        var addresses: [String] = []
        try await source.forEachAddress { addresses.append($0) }
        for sha512 in addresses {
            if try await destination.size(of: sha512) != nil {
                summary.blobsPresent += 1
                continue
            }
            // Removed since it was listed.
            guard let size = try await source.size(of: sha512) else { continue }
            let staged = try destination.beginUpload()
            try await source.read(sha512, range: 0..<size) { chunk in try await destination.append(chunk, to: staged) }
            do {
                _ = try await destination.commit(staged, expected: sha512)
                summary.blobsCopied += 1
            } catch let mismatch as BlobMismatch {
                warn("blob \(sha512.prefix(16))… not copied: \(mismatch)")
                summary.blobsCorrupt += 1
            }
        }
    }

    private func copyEntries(from source: any EntryDirectory, to destination: any EntryDirectory, into summary: inout Summary) async throws {
        for key in try await source.keys() {
            for body in try await source.bodies(for: key) {
                if try await destination.add(key: key, body: body) {
                    summary.entriesAdded += 1
                } else {
                    summary.entriesPresent += 1
                }
            }
        }
    }
}
