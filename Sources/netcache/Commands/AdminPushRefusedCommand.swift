import ArgumentParser
import Foundation
import NetcacheProtocol
import NetcacheServer

struct AdminPushRefusedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push-refused",
        abstract: "List the uploads to a mirror that upstream refused for good (--upstream-push).",
        discussion: """
            Upstream answered 400, 403 or 413: the upload was set aside, kept in the mirror's \
            store, and the queue went on. Prints one line per upload, oldest first: ID TIME \
            STATUS blob SHA512, or ID TIME STATUS entry KEY. Reads <data>/push.sqlite without \
            locking the data directory: the mirror may be running. With --requeue, puts them \
            back in the queue instead, for when upstream would now take them (a credential \
            or size limit fixed there).
            """
    )

    @Option(help: ArgumentHelp("The mirror's data directory.", valueName: "dir"))
    var data = "netcache-data"

    @Flag(help: "Print a JSON array of {id, time, status, reason, sha512 or key and body} instead.")
    var json = false

    @Flag(help: "Put them back in the queue, in their place, once what upstream refused is fixed there (the running mirror takes them within its back-off).")
    var requeue = false

    @Argument(help: ArgumentHelp("With --requeue, only these (default: all).", valueName: "id"))
    var ids: [Int64] = []

    func run() async throws {
        if !ids.isEmpty && !requeue { throw ValidationError("ids go with --requeue") }
        try DataDirectoryPresence.requireExisting(URL(fileURLWithPath: data), option: "--data")
        if requeue {
            let count = try RefusedPush.requeue(in: URL(fileURLWithPath: data), ids: ids)
            try printFlushed("requeued \(count) upload(s)")
            return
        }
        let refused = try RefusedPush.all(in: URL(fileURLWithPath: data))
        let formatter = ISO8601DateFormatter()
        if json {
            let rows = refused.map { push in
                var fields: [(key: String, value: JSONValue)] = [
                    ("id", .integer(Int(push.id))), ("time", .string(formatter.string(from: push.refusedAt))), ("status", .integer(push.status)),
                    ("reason", .string(push.reason)),
                ]
                if let sha512 = push.sha512 { fields.append(("sha512", .string(sha512))) }
                if let key = push.key { fields.append(("key", .string(key))) }
                if let body = push.body { fields.append(("body", .string(body))) }
                return JSONValue.object(JSONObject(fields))
            }
            try printFlushed(JSONValue.array(rows).pythonJSON)
            return
        }
        for push in refused {
            let what = push.sha512.map { "blob " + $0 } ?? "entry " + (push.key ?? "")
            try printFlushed("\(push.id) \(formatter.string(from: push.refusedAt)) \(push.status) \(what)")
        }
    }
}
