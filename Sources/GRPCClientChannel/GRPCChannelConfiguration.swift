import NGHTTP2

/// Where a ``GRPCChannel`` connects and how it behaves.
public struct GRPCChannelConfiguration: Sendable {
  /// One server name and port.
  public struct Target: Hashable, Sendable {
    /// A host name or address; every address it resolves to gets a connection.
    public var host: String
    /// The port.
    public var port: Int

    /// Creates a target.
    public init(host: String, port: Int) {
      self.host = host
      self.port = port
    }
  }

  /// The servers: usually one name (whose addresses are the replicas), or a fixed list.
  public var targets: [Target]
  /// The deadline of a call that names none, sent as `grpc-timeout`.
  public var defaultDeadline: Duration
  /// How long connecting may take: the TCP connect, and then as long again for the server's
  /// HTTP/2 SETTINGS (a peer that is not an HTTP/2 server fails the attempt then).
  public var connectTimeout: Duration
  /// The reconnect schedule after a failed or lost connection.
  public var backoff: ReconnectBackoff
  /// The largest response message accepted, in bytes.
  public var maxResponseMessageSize: Int
  /// HTTP/2 settings of each connection.
  public var http2Settings: NGHTTP2Settings
  /// How often the server names are resolved again, so replicas that joined get connections and
  /// those that left are let go; nil resolves only when a connection is lost.
  public var resolveInterval: Duration?

  /// `host:port` of the first target, the `:authority` of every request.
  public var authority: String {
    self.targets.first.map { "\($0.host):\($0.port)" } ?? ""
  }

  /// Creates a configuration with the defaults for everything but the server.
  public init(host: String, port: Int) {
    self.targets = [Target(host: host, port: port)]
    self.defaultDeadline = .seconds(5)
    self.connectTimeout = .seconds(1)
    self.backoff = .defaults
    self.maxResponseMessageSize = 4 << 20
    self.http2Settings = .defaults
    self.resolveInterval = .seconds(30)
  }
}
