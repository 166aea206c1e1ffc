import Testing

@testable import NGHTTP2

@Suite("Header decoding")
struct NGHTTP2HeaderDecoderTests {
  @Test("Repeated fields reuse the previous block's Strings; changed ones are decoded afresh")
  func reusesRepeatedStrings() {
    var decoder = NGHTTP2HeaderDecoder()
    decode(into: &decoder, .request, [(":path", "/a.very.long.Service/Method"), ("x", "1")])
    let first = decoder.block
    decode(into: &decoder, .response, [(":status", "200")])
    decode(into: &decoder, .request, [(":path", "/a.very.long.Service/Method"), ("x", "2")])
    let second = decoder.block

    #expect(second.kind == .request)
    #expect(second.map(\.value) == ["/a.very.long.Service/Method", "2"])
    // The same storage, not just equal text: the String was reused, not allocated again.
    #expect(identity(of: first[0].value) == identity(of: second[0].value))
    #expect(first.map(\.value) == ["/a.very.long.Service/Method", "1"], "delivered blocks keep")
  }

  @Test("A shorter block drops the previous block's extra fields")
  func shorterBlock() {
    var decoder = NGHTTP2HeaderDecoder()
    decode(into: &decoder, .trailers, [("grpc-status", "0"), ("grpc-message", "ok")])
    decode(into: &decoder, .trailers, [("grpc-status", "13")])
    #expect(decoder.block.map { "\($0.name)=\($0.value)" } == ["grpc-status=13"])
  }

  @Test("A block over the size limit is flagged and keeps only the fields within it")
  func sizeLimit() {
    var decoder = NGHTTP2HeaderDecoder()
    decoder.sizeLimit = 100  // RFC 9113 counts name + value + 32 per field.
    decode(
      into: &decoder, .request, [(":path", "/s/m"), ("x-big", String(repeating: "a", count: 80))])
    #expect(decoder.block.exceedsSizeLimit)
    #expect(decoder.block.map(\.name) == [":path"])
    decode(into: &decoder, .request, [(":path", "/s/m"), ("x-small", "a")])
    #expect(!decoder.block.exceedsSizeLimit, "the flag belongs to one block")
    #expect(decoder.block.map(\.name) == [":path", "x-small"])
  }

  private func decode(
    into decoder: inout NGHTTP2HeaderDecoder,
    _ kind: NGHTTP2HeaderBlock.Kind,
    _ fields: [NGHTTP2HeaderField]
  ) {
    decoder.begin(kind)
    for field in fields {
      Array(field.name.utf8).withUnsafeBufferPointer { name in
        Array(field.value.utf8).withUnsafeBufferPointer { value in
          decoder.append(name: name, value: value)
        }
      }
    }
    decoder.finish()
  }

  private func identity(of string: String) -> UnsafeRawPointer? {
    var string = string
    return string.withUTF8 { UnsafeRawPointer($0.baseAddress) }
  }
}
