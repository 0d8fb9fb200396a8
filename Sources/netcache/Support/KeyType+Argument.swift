import ArgumentParser
import NetcacheClient

extension KeyGenerator.KeyType: ExpressibleByArgument {}
