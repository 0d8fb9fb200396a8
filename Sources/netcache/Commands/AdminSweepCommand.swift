import ArgumentParser
import Foundation
import Logging
import NetcacheServer

struct AdminSweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Remove the blobs no entry names that nobody stored or read for a number of days.",
        discussion: """
            A dry run unless --apply: prints "would remove SHA512 SIZE LAST-USED" for each, then \
            a total. Last use is a blob file's modification or access time (the access time is \
            kept within a day under Linux's relatime, not at all under noatime), or an S3 \
            object's last modification, since S3 records no reads; with PostgreSQL, also the \
            last upload, HEAD or entry naming it. Safe beside servers running on S3 and \
            PostgreSQL: a blob an entry names, or that is uploaded or looked up while the sweep \
            runs, is kept; an entry filed just as its blob goes is refused (HTTP 409).
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(help: ArgumentHelp("Days a blob no entry names is kept after it was last stored or read.", valueName: "days"))
    var retainUnreferenced: Int

    @Flag(help: "Remove them; without it, only say what would be removed.")
    var apply = false

    func validate() throws {
        if retainUnreferenced < 0 { throw ValidationError("--retain-unreferenced takes a number of days, 0 or more") }
    }

    func run() async throws {
        let cutoff = Date().addingTimeInterval(-Double(retainUnreferenced) * 86_400)
        let swept = try await storage.location().administer(logger: Logger(label: "netcache")) {
            try await $0.sweepUnreferenced(unusedSince: cutoff, dryRun: !apply)
        }
        let verb = apply ? "removed" : "would remove"
        for blob in swept {
            try printFlushed("\(verb) \(blob.sha512) \(blob.size) \(blob.lastUsed.formatted(.iso8601))")
        }
        try printFlushed("\(swept.count) unreferenced blob(s), \(swept.reduce(0) { $0 + $1.size }) bytes, \(apply ? "removed" : "not removed (dry run: give --apply)")")
    }
}
