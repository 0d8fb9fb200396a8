import NetcacheServer

/// A `--*-directory` value: a PostgreSQL URI, or a data directory.
enum EntryDirectoryArgument {
    case postgresql(PostgresAddress)
    case dataDirectory(String)

    static func parse(_ argument: String) throws -> EntryDirectoryArgument {
        argument.hasPrefix("postgres") && argument.contains("://") ? .postgresql(try PostgresAddress(argument)) : .dataDirectory(argument)
    }
}
