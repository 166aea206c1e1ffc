import GRPCWire
import Testing

@Suite struct GRPCMessageEncodingTests {
  @Test(arguments: [
    ("identity", GRPCMessageEncoding.identity),
    ("gzip", .gzip),
    ("deflate", .deflate),
    (" gzip\t", .gzip),
    ("GZIP", .gzip),
  ])
  func parsesEncoding(value: String, encoding: GRPCMessageEncoding) {
    #expect(GRPCMessageEncoding(headerValue: value) == encoding)
  }

  @Test(arguments: ["", "snappy", "zstd", "gzip,deflate", "g zip", "br"])
  func rejectsUnsupportedEncoding(value: String) {
    #expect(GRPCMessageEncoding(headerValue: value) == nil)
  }

  @Test(
    arguments: [
      ("gzip", [.identity, .gzip]),
      ("identity,deflate,gzip", .all),
      (" deflate , gzip ,identity", .all),
      ("snappy, zstd", .identity),
      ("", .identity),
      (",,gzip,,", [.identity, .gzip]),
    ] as [(String, GRPCMessageEncodingSet)])
  func parsesAcceptEncodingList(value: String, set: GRPCMessageEncodingSet) {
    #expect(GRPCMessageEncodingSet(acceptEncodingHeader: value) == set)
  }

  @Test func advertisesInGRPCGoOrder() {
    #expect(GRPCMessageEncodingSet.all.headerValue == "identity,deflate,gzip")
    #expect(GRPCMessageEncodingSet([.identity, .gzip]).headerValue == "identity,gzip")
  }

  @Test(
    arguments: [
      (.gzip, .all, .gzip),
      (.deflate, .all, .deflate),
      (.identity, .all, .identity),
      (.gzip, .identity, .identity),
      (.gzip, [.identity, .deflate], .identity),
    ] as [(GRPCMessageEncoding, GRPCMessageEncodingSet, GRPCMessageEncoding)])
  func responseMirrorsAnEnabledRequestEncoding(
    request: GRPCMessageEncoding,
    enabled: GRPCMessageEncodingSet,
    response: GRPCMessageEncoding
  ) {
    #expect(
      GRPCMessageEncoding.responseEncoding(requestEncoding: request, enabled: enabled) == response
    )
  }
}
