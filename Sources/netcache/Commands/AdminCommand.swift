import ArgumentParser

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Look after a cache's storage: keys, entry and blob removal, usage.",
        discussion: """
            Works on the storage directly: a data directory (--data), or S3 and PostgreSQL \
            (--store, --directory). A data directory is locked meanwhile, so the server on it \
            must be stopped; shared backends may stay in use by their servers.
            """,
        subcommands: [AdminKeysCommand.self, AdminUsageCommand.self, AdminRemoveEntryCommand.self, AdminRemoveBlobCommand.self, AdminSweepCommand.self, AdminPushRefusedCommand.self]
    )
}
