import ArgumentParser
import NetcacheClient

/// `NAME==VERSION` on the command line.
extension PackageRelease: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}
