import Testing

@testable import NGHTTP2

@Suite("Header decoding")
struct NGHTTP2HeaderDecoderTests {
  @Test("A block keeps its fields in order, as Strings on access and as raw bytes")
  func fieldsInOrder() {
    var decoder = NGHTTP2HeaderDecoder()
    decode(into: &decoder, .request, [(":path", "/a.very.long.Service/Method"), ("x", "1")])
    let block = decoder.block
    #expect(block.kind == .request)
    #expect(block.map(\.name) == [":path", "x"])
    #expect(block.map(\.value) == ["/a.very.long.Service/Method", "1"])
    #expect(block["x"] == "1")
    #expect(block["y"] == nil)
    #expect(block.firstIndex(ofName: ":path") == 0)
    #expect(block.valueEquals(at: 0, "/a.very.long.Service/Method"))
    #expect(!block.valueEquals(at: 0, "/a.very.long.Service/Other"))
    var raw: [String] = []
    block.forEachRawField { name, value in
      raw.append(
        String(decoding: name, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self))
    }
    #expect(raw == [":path=/a.very.long.Service/Method", "x=1"])
  }

  @Test("A delivered block is a value: decoding the next one does not change it")
  func deliveredBlocksKeep() {
    var decoder = NGHTTP2HeaderDecoder()
    decode(into: &decoder, .request, [(":path", "/s/m"), ("x", "1")])
    let first = decoder.block
    decode(into: &decoder, .trailers, [("grpc-status", "0")])
    #expect(first.map(\.value) == ["/s/m", "1"])
    #expect(decoder.block.kind == .trailers)
    #expect(decoder.block.map(\.value) == ["0"])
  }

  @Test("A block grows past its first storage and stays a value while it does")
  func growsAndCopiesOnWrite() {
    var decoder = NGHTTP2HeaderDecoder()
    decode(into: &decoder, .request, [("a", "1")])
    let small = decoder.block
    let fields = (0..<40).map { (name: "x-field-\($0)", value: String(repeating: "v", count: 100)) }
    decode(into: &decoder, .request, fields)
    #expect(decoder.block.map(\.name) == fields.map(\.name))
    #expect(decoder.block.map(\.value) == fields.map(\.value))
    #expect(small.map(\.name) == ["a"], "an earlier block keeps its own storage")
    var copy = decoder.block
    copy.append(
      name: UnsafeRawBufferPointer(start: nil, count: 0), value: .init(start: nil, count: 0))
    #expect(copy.count == 41 && decoder.block.count == 40)
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

  @Test("Past twice the size limit the decoder asks to stop reading the block")
  func abandonLimit() {
    var decoder = NGHTTP2HeaderDecoder()
    decoder.sizeLimit = 100
    decoder.begin(.request)
    let field = Array("x-forty-byte-field-value".utf8)  // 24 + 24 + 32 = 80 bytes a field.
    let answers = (0..<3).map { _ in
      field.withUnsafeBufferPointer { decoder.append(name: $0, value: $0) }
    }
    #expect(answers == [true, true, false], "80 and 160 bytes are read on; 240 is not")
    #expect(decoder.block.exceedsSizeLimit)
  }

  private func decode(
    into decoder: inout NGHTTP2HeaderDecoder,
    _ kind: NGHTTP2HeaderBlock.Kind,
    _ fields: [NGHTTP2HeaderField]
  ) {
    decoder.begin(kind)
    for field in fields {
      _ = Array(field.name.utf8).withUnsafeBufferPointer { name in
        Array(field.value.utf8).withUnsafeBufferPointer { value in
          decoder.append(name: name, value: value)
        }
      }
    }
  }

}
