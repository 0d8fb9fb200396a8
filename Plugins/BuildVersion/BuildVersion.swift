import Foundation
import PackagePlugin

/// Gives `netcache --version` the version and commit it was built from: scripts/version.sh
/// reads them from git before each build.
@main
struct BuildVersion: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        return [
            .prebuildCommand(
                displayName: "netcache version from git",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [context.package.directoryURL.appending(path: "scripts/version.sh").path, "--swift", output.path],
                outputFilesDirectory: output)
        ]
    }
}
