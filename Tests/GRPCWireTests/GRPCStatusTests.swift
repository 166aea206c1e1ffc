import GRPCWire
import Testing

@Suite struct GRPCStatusTests {
  @Test(arguments: [
    (GRPCStatus.Code.ok, 0, "OK"),
    (.cancelled, 1, "CANCELLED"),
    (.unknown, 2, "UNKNOWN"),
    (.invalidArgument, 3, "INVALID_ARGUMENT"),
    (.deadlineExceeded, 4, "DEADLINE_EXCEEDED"),
    (.notFound, 5, "NOT_FOUND"),
    (.alreadyExists, 6, "ALREADY_EXISTS"),
    (.permissionDenied, 7, "PERMISSION_DENIED"),
    (.resourceExhausted, 8, "RESOURCE_EXHAUSTED"),
    (.failedPrecondition, 9, "FAILED_PRECONDITION"),
    (.aborted, 10, "ABORTED"),
    (.outOfRange, 11, "OUT_OF_RANGE"),
    (.unimplemented, 12, "UNIMPLEMENTED"),
    (.internalError, 13, "INTERNAL"),
    (.unavailable, 14, "UNAVAILABLE"),
    (.dataLoss, 15, "DATA_LOSS"),
    (.unauthenticated, 16, "UNAUTHENTICATED"),
  ])
  func codeNumbersAndNames(code: GRPCStatus.Code, number: Int, name: String) {
    #expect(code.rawValue == number)
    #expect(code.name == name)
    #expect(code.headerValue == String(number))
    #expect(GRPCStatus.Code(headerValue: String(number)) == code)
  }

  @Test(arguments: ["", "17", "-1", " 4", "4 ", "abc", "99999999999999999999", "0x1"])
  func unknownHeaderValuesReadAsUnknown(value: String) {
    #expect(GRPCStatus.Code(headerValue: value) == .unknown)
  }

  @Test func description() {
    #expect(GRPCStatus.ok.description == "OK")
    #expect(
      GRPCStatus(code: .deadlineExceeded, message: "too slow").description
        == "DEADLINE_EXCEEDED: too slow"
    )
  }

  @Test(arguments: [
    ("", ""),
    ("plain ASCII: 0-9 ~!", "plain ASCII: 0-9 ~!"),
    ("100%", "100%25"),
    ("%25", "%2525"),
    ("line\nbreak\ttab", "line%0Abreak%09tab"),
    ("\u{7F}", "%7F"),
    ("café", "caf%C3%A9"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("😀", "%F0%9F%98%80"),
  ])
  func percentEncoding(message: String, encoded: String) {
    #expect(GRPCStatus.percentEncode(message) == encoded)
    #expect(GRPCStatus.percentDecode(encoded) == message)
  }

  @Test(arguments: [
    ("%", "%"),
    ("%4", "%4"),
    ("%zz", "%zz"),
    ("%4g", "%4g"),
    ("50% off", "50% off"),
    ("%%41", "%A"),
    ("caf%c3%a9", "café"),
    // The decoded bytes are not UTF-8, so the raw value is kept rather than mangled.
    ("bad %FF byte", "bad %FF byte"),
  ])
  func percentDecodingIsLenient(value: String, decoded: String) {
    #expect(GRPCStatus.percentDecode(value) == decoded)
  }
}
