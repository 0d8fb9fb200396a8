import Foundation
import Logging
import ServiceLifecycle

/// Aborts the multipart uploads under the store's prefix that are older than
/// `--s3-abandoned-upload-age`: what servers killed mid-upload left. Their parts are
/// invisible but billed and stored, and no server would ever complete them.
///
/// An upload still receiving parts is not abandoned, however old: another server may be
/// sending a large blob over a slow link. Its age is that of its newest part (ListParts),
/// and a live server finishes a part at least every `S3Client.transferDeadline`.
struct S3UploadSweep: Service {
    let store: S3BlobStore
    let logger: Logger

    func run() async throws {
        let age = store.client.settings.abandonedUploadAge
        // Often enough that a left-over lives at most about twice its age.
        let interval = min(age, .seconds(3600))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let swept = try await sweep(olderThan: age)
                if swept > 0 { logger.info("s3: aborted \(swept) abandoned multipart upload(s)") }
            } catch {
                logger.warning("s3: sweeping abandoned multipart uploads failed: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Aborts what neither began nor received a part within `age`; how many.
    func sweep(olderThan age: Duration) async throws -> Int {
        let client = store.client
        let prefix = client.settings.location.prefix
        let cutoff = Date().addingTimeInterval(-TimeInterval(age.components.seconds))
        var markers: (key: String, upload: String)?
        var swept = 0
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.upload)] }
            let (_, data) = try await client.send(client.request(.GET, key: nil, query: query), named: "ListMultipartUploads \(prefix)")
            let page = try S3XML(data, record: "Upload")
            for upload in page.records {
                guard let key = upload["Key"], let id = upload["UploadId"], let initiated = upload["Initiated"].flatMap(Self.date), initiated < cutoff else { continue }
                guard try await newestPart(of: key, uploadID: id).map({ $0 < cutoff }) ?? true else { continue }
                try await store.abort(key, uploadID: id)
                swept += 1
            }
            markers = page.values["IsTruncated"] == "true" ? page.values["NextKeyMarker"].flatMap { key in page.values["NextUploadIdMarker"].map { (key, $0) } } : nil
        } while markers != nil
        return swept
    }

    /// When the newest part of an upload was stored; `nil` when it has none.
    private func newestPart(of key: String, uploadID: String) async throws -> Date? {
        let client = store.client
        var newest: Date?
        var marker: String?
        repeat {
            var query = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let (response, data) = try await client.send(client.request(.GET, key: key, query: query), named: "ListParts \(key)", expecting: [200, 404])
            // Completed or aborted meanwhile: nothing to abort.
            guard response.status.code == 200 else { return .distantFuture }
            let page = try S3XML(data, record: "Part")
            for part in page.records {
                guard let modified = part["LastModified"].flatMap(Self.date) else {
                    throw S3Error(status: 200, code: "a part without LastModified", request: "ListParts \(key)")
                }
                newest = max(newest ?? modified, modified)
            }
            marker = page.values["IsTruncated"] == "true" ? page.values["NextPartNumberMarker"] : nil
        } while marker != nil
        return newest
    }

    private static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
