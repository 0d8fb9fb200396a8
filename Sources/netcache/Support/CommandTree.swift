import ArgumentParser

/// The command types below `netcache`, as the parser descends them.
enum CommandTree {
    /// From `netcache` down to `command`.
    static func path(to command: ParsableCommand.Type) -> [ParsableCommand.Type] {
        func search(_ node: ParsableCommand.Type) -> [ParsableCommand.Type]? {
            if node == command { return [node] }
            for child in node.configuration.subcommands {
                if let below = search(child) { return [node] + below }
            }
            return nil
        }
        return search(Netcache.self) ?? [Netcache.self, command]
    }
}
