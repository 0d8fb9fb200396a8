/// How long a transfer may wait before it counts as failed: to connect, and while slower
/// than `lowSpeedLimit` bytes a second.
public struct TransferTimeouts: Sendable, Equatable {
    /// Seconds to connect.
    public var connect: Int
    /// Bytes a second below which the transfer is stalling.
    public var lowSpeedLimit: Int
    /// Seconds a transfer may stall before it is given up.
    public var lowSpeedTime: Int

    public init(connect: Int, lowSpeedLimit: Int, lowSpeedTime: Int) {
        self.connect = connect
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
    }

    /// The Python client's: a minute to connect, a minute without a byte.
    public static let downloads = TransferTimeouts(connect: 60, lowSpeedLimit: 1, lowSpeedTime: 60)
    /// Uploads may wait an hour for a byte, as the Python client's do: servers hash and
    /// sync large bodies before they answer.
    public static let uploads = TransferTimeouts(connect: 60, lowSpeedLimit: 1, lowSpeedTime: 3600)
}
