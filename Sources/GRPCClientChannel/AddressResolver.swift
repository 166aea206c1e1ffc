import GRPCWire
import Glibc
import NIOCore
import NIOPosix

/// Resolves a host name to every TCP address it has (all A and AAAA records), with
/// `getaddrinfo` on NIO's thread pool so an event loop never blocks on DNS.
enum AddressResolver {
  /// The addresses of every target, IPv4 and IPv6, without duplicates, in resolver order.
  @Sendable
  static func resolve(
    _ targets: [GRPCChannelConfiguration.Target], on eventLoop: any EventLoop
  ) -> EventLoopFuture<[SocketAddress]> {
    NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
      var addresses: [SocketAddress] = []
      for target in targets {
        for address in try Self.resolveBlocking(host: target.host, port: target.port)
        where !addresses.contains(address) {
          addresses.append(address)
        }
      }
      return addresses
    }
  }

  static func resolveBlocking(host: String, port: Int) throws(GRPCStatus) -> [SocketAddress] {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_protocol = Int32(IPPROTO_TCP)
    var list: UnsafeMutablePointer<addrinfo>?
    let result = getaddrinfo(host, String(port), &hints, &list)
    guard result == 0, let first = list else {
      throw GRPCStatus(
        code: .unavailable,
        message: "cannot resolve \(host): \(String(cString: gai_strerror(result)))")
    }
    defer { freeaddrinfo(first) }
    var addresses: [SocketAddress] = []
    var node: UnsafeMutablePointer<addrinfo>? = first
    while let entry = node {
      if let address = entry.pointee.ai_addr.flatMap(Self.socketAddress),
        !addresses.contains(address)
      {
        addresses.append(address)
      }
      node = entry.pointee.ai_next
    }
    return addresses
  }

  private static func socketAddress(_ address: UnsafeMutablePointer<sockaddr>) -> SocketAddress? {
    switch Int32(address.pointee.sa_family) {
    case AF_INET:
      address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) }
    case AF_INET6:
      address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) }
    default:
      nil
    }
  }
}
