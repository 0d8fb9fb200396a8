import ArgumentParser
import NetcacheClient

/// `--valid DURATION`: `30s`, `15m`, `12h`, `7d`.
struct DurationArgument: ExpressibleByArgument {
    let duration: TrustDuration

    init?(argument: String) {
        guard let duration = TrustDuration(argument) else { return nil }
        self.duration = duration
    }
}
