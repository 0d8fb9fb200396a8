import ArgumentParser
import Logging
import NetcacheServer

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension LogFormat: ExpressibleByArgument {}
