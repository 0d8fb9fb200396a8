import ArgumentParser
import NetcacheClient

extension TrustRole: ExpressibleByArgument {}
