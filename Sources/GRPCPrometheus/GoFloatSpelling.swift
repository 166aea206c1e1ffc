/// Re-spells a decimal number the way Go's Prometheus client writes floats, working on the
/// digits of the text so no binary round trip can change the value.
///
/// swift-prometheus writes `Double.description` (`1.0`, `10.0`, `1e-05`); Go writes
/// `strconv.FormatFloat(f, 'g', -1, 64)` (`1`, `10`, `1e-05`), and in OpenMetrics it appends
/// `.0` to a number with neither `.` nor `e` (`1.0`, `10.0`). Both spellings carry the shortest
/// round-trip digits, so only the layout differs.
enum GoFloatSpelling {
  /// `text` in Go's spelling, or `nil` when it is not a plain decimal number (`+Inf`, `NaN` and
  /// anything unexpected are left to the caller to copy unchanged).
  static func respell(_ text: some Collection<UInt8>, openMetrics: Bool) -> [UInt8]? {
    guard let number = DecimalDigits(parsing: text) else { return nil }
    var out = number.goGeneralFormat()
    if openMetrics && !out.contains(UInt8(ascii: ".")) && !out.contains(UInt8(ascii: "e")) {
      out.append(contentsOf: ".0".utf8)
    }
    return out
  }

  /// A number as significant digits `0.d1d2d3... × 10^pointPosition`, the form Go's `strconv`
  /// formats from (`decimal.dp`).
  private struct DecimalDigits {
    var negative: Bool
    var digits: [UInt8]
    var pointPosition: Int

    init?(parsing text: some Collection<UInt8>) {
      var bytes = text[...]
      self.negative = false
      if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
        self.negative = sign == UInt8(ascii: "-")
        bytes = bytes.dropFirst()
      }

      var digits: [UInt8] = []
      var pointPosition = 0
      var seenPoint = false
      var seenDigit = false
      while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
        bytes = bytes.dropFirst()
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
          seenDigit = true
          if digits.isEmpty && byte == UInt8(ascii: "0") {
            // A leading zero is not significant, but after the point it shifts the digits.
            if seenPoint { pointPosition -= 1 }
          } else {
            digits.append(byte)
            if !seenPoint { pointPosition += 1 }
          }
        case UInt8(ascii: ".") where !seenPoint:
          seenPoint = true
        default:
          return nil
        }
      }
      guard seenDigit else { return nil }

      if !bytes.isEmpty {
        bytes = bytes.dropFirst()  // the "e"
        var exponentNegative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
          exponentNegative = sign == UInt8(ascii: "-")
          bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty, bytes.count <= 4 else { return nil }
        var exponent = 0
        for byte in bytes {
          guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
          exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
        }
        pointPosition += exponentNegative ? -exponent : exponent
      }

      while digits.last == UInt8(ascii: "0") {
        digits.removeLast()
      }
      self.digits = digits
      self.pointPosition = digits.isEmpty ? 0 : pointPosition
    }

    /// Go's `%g` with shortest precision: exponent form when the decimal exponent is below -4
    /// or at least 6 (`strconv` fixes `eprec` at 6 for shortest output), plain form otherwise.
    func goGeneralFormat() -> [UInt8] {
      var out: [UInt8] = self.negative ? [UInt8(ascii: "-")] : []
      guard !self.digits.isEmpty else {
        out.append(UInt8(ascii: "0"))
        return out
      }
      let exponent = self.pointPosition - 1
      if exponent < -4 || exponent >= 6 {
        out.append(self.digits[0])
        if self.digits.count > 1 {
          out.append(UInt8(ascii: "."))
          out.append(contentsOf: self.digits[1...])
        }
        out.append(UInt8(ascii: "e"))
        out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let magnitude = String(abs(exponent))
        if magnitude.utf8.count < 2 {
          out.append(UInt8(ascii: "0"))
        }
        out.append(contentsOf: magnitude.utf8)
      } else if self.pointPosition <= 0 {
        out.append(contentsOf: "0.".utf8)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -self.pointPosition))
        out.append(contentsOf: self.digits)
      } else if self.pointPosition >= self.digits.count {
        out.append(contentsOf: self.digits)
        out.append(
          contentsOf: repeatElement(UInt8(ascii: "0"), count: self.pointPosition - digits.count)
        )
      } else {
        out.append(contentsOf: self.digits[..<self.pointPosition])
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: self.digits[self.pointPosition...])
      }
      return out
    }
  }
}
