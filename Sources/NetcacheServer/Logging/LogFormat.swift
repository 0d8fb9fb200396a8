/// `--log-format`: lines for people, or one JSON object per line for log collectors.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
