import ArgumentParser
import NetcacheServer

extension S3Location: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}
