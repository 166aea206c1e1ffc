import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The descriptors a reflection service answers from: every file, by name and by the symbols it
/// defines, with its dependencies.
struct ReflectionIndex: Sendable {
  private let files: [String: (proto: Google_Protobuf_FileDescriptorProto, bytes: Data)]
  private let fileBySymbol: [String: String]

  /// Indexes a serialized `google.protobuf.FileDescriptorSet`.
  init(fileDescriptorSet: Data) throws {
    let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: fileDescriptorSet)
    var files: [String: (Google_Protobuf_FileDescriptorProto, Data)] = [:]
    var fileBySymbol: [String: String] = [:]
    for file in set.file {
      files[file.name] = (file, try file.serializedBytes())
      let prefix = file.package.isEmpty ? "" : file.package + "."
      for symbol in Self.symbols(of: file) { fileBySymbol[prefix + symbol] = file.name }
    }
    self.files = files
    self.fileBySymbol = fileBySymbol
  }

  /// Whether a fully qualified message, enum, service or method name is known.
  func contains(symbol: String) -> Bool {
    self.fileBySymbol[symbol] != nil
  }

  /// The serialized file that defines a symbol, then its dependencies.
  func fileContaining(symbol: String) -> [Data]? {
    self.fileBySymbol[symbol].flatMap(self.file(named:))
  }

  /// The serialized file, then every file it depends on (transitively, each once).
  func file(named name: String) -> [Data]? {
    guard self.files[name] != nil else { return nil }
    var ordered: [Data] = []
    var seen: Set<String> = []
    var pending = [name]
    while let next = pending.popLast() {
      guard seen.insert(next).inserted, let file = self.files[next] else { continue }
      ordered.append(file.bytes)
      pending.append(contentsOf: file.proto.dependency.reversed())
    }
    return ordered
  }

  private static func symbols(of file: Google_Protobuf_FileDescriptorProto) -> [String] {
    var symbols: [String] = []
    func addMessage(_ message: Google_Protobuf_DescriptorProto, prefix: String) {
      let name = prefix + message.name
      symbols.append(name)
      for nested in message.nestedType { addMessage(nested, prefix: name + ".") }
      for nestedEnum in message.enumType { symbols.append(name + "." + nestedEnum.name) }
    }
    for message in file.messageType { addMessage(message, prefix: "") }
    for enumType in file.enumType { symbols.append(enumType.name) }
    for service in file.service {
      symbols.append(service.name)
      for method in service.method { symbols.append(service.name + "." + method.name) }
    }
    return symbols
  }
}
