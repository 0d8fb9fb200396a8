/// Where entries go: the data directory (the default), or a PostgreSQL database.
public enum EntryBackend: Sendable {
    case dataDirectory
    case postgresql(PostgresAddress)
}
