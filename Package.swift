// swift-tools-version:6.1
import Foundation
import PackageDescription

let nio = "swift-nio"

let package = Package(
  name: "grpc-prometheus-echo",
  platforms: [.macOS(.v15)],
  products: [
    /// The gRPC echo server (gRPC, health, reflection and /metrics on one port).
    .executable(name: "EchoServer", targets: ["EchoServer"]),
    /// The HTTP gateway in front of the echo server (`/echo`, a page, `/metrics`).
    .executable(name: "EchoClient", targets: ["EchoClient"]),
    /// go-grpc-prometheus for Swift: metric definitions, recorders, process metrics, exposition.
    .library(name: "GRPCPrometheus", targets: ["GRPCPrometheus"]),
    /// GRPCCore client and server interceptors that record through `GRPCPrometheus`.
    .library(name: "GRPCPrometheusInterceptors", targets: ["GRPCPrometheusInterceptors"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    // No default traits: `BinaryDelimitedStreams` would link all of Foundation (and ICU, about
    // 20 MB of resident memory) into the server for an API it does not use.
    .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    // Tests and bench only: grpc-swift-2's own HTTP/2 transport, an independent peer for the
    // server in the tests and a server to measure it against in `make bench`.
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
  ],
  targets: [
    // MARK: Code generated from Protos/ (committed; `make protos` regenerates it).
    .target(
      name: "ProtoMessages",
      dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    .target(
      name: "ProtoStubs",
      dependencies: [
        "ProtoMessages",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
      ]
    ),

    // MARK: The metrics library: go-grpc-prometheus for Swift.
    .target(
      name: "GRPCPrometheus",
      dependencies: [
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOConcurrencyHelpers", package: nio),
      ]
    ),
    .target(
      name: "GRPCPrometheusInterceptors",
      dependencies: [
        "GRPCPrometheus",
        "GRPCWire",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "NIOConcurrencyHelpers", package: nio),
      ]
    ),

    // MARK: HTTP/2 through libnghttp2; the C API is touched by `NGHTTP2` alone.
    .systemLibrary(
      name: "CNGHTTP2",
      pkgConfig: "libnghttp2",
      providers: [.apt(["libnghttp2-dev"])]
    ),
    .target(
      name: "NGHTTP2",
      dependencies: ["CNGHTTP2", .product(name: "NIOCore", package: nio)]
    ),

    // MARK: gRPC wire protocol rules as pure values: framing, status, timeouts, compression.
    .target(
      name: "GRPCWire",
      dependencies: [
        .product(name: "NIOCore", package: nio),
        .product(name: "CompressNIO", package: "compress-nio"),
      ]
    ),

    // MARK: HTTP/1.1 serving both processes share: listener set-up, the guarded pipeline,
    // responses, the health probe.
    .target(
      name: "HTTP1Serving",
      dependencies: [
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "NIOHTTP1", package: nio),
        .product(name: "NIOExtras", package: "swift-nio-extras"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // MARK: The RPC methods the protos declare, for registrations and calls to be checked against.
    .target(
      name: "ProtoDeclarations",
      dependencies: ["GRPCPrometheus", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),

    // MARK: The gRPC server runtime: NIO sockets, nghttp2 sessions, one port for gRPC and HTTP/1.
    .target(
      name: "GRPCServerRuntime",
      dependencies: [
        "NGHTTP2",
        "GRPCWire",
        "GRPCPrometheus",
        "HTTP1Serving",
        "ProtoDeclarations",
        .product(name: "NIOConcurrencyHelpers", package: nio),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "NIOHTTP1", package: nio),
        .product(name: "NIOExtras", package: "swift-nio-extras"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .target(
      name: "GRPCStandardServices",
      dependencies: [
        "GRPCServerRuntime",
        "GRPCWire",
        "ProtoMessages",
        .product(name: "NIOConcurrencyHelpers", package: nio),
        .product(name: "NIOCore", package: nio),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),

    // MARK: The echo server.
    .target(
      name: "EchoServerCore",
      dependencies: [
        "GRPCServerRuntime",
        "HTTP1Serving",
        "ProtoDeclarations",
        "GRPCStandardServices",
        "GRPCPrometheus",
        "GRPCWire",
        "ProtoMessages",
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    // MARK: Command-line flags both executables share.
    .target(
      name: "ListenerOptions",
      dependencies: [
        "HTTP1Serving",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
      ]
    ),
    .executableTarget(
      name: "EchoServer",
      dependencies: [
        "EchoServerCore",
        "HTTP1Serving",
        "ListenerOptions",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOCore", package: nio),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),

    // MARK: The gRPC client channel: HTTP/2 through nghttp2 on the caller's event loops.
    .target(
      name: "GRPCClientChannel",
      dependencies: [
        "NGHTTP2",
        "GRPCWire",
        "GRPCPrometheus",
        .product(name: "NIOConcurrencyHelpers", package: nio),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),

    // MARK: The echo client: an HTTP/1.1 gateway to the echo server.
    .target(
      name: "EchoClientCore",
      dependencies: [
        "GRPCClientChannel",
        "GRPCPrometheus",
        "HTTP1Serving",
        "ProtoDeclarations",
        "GRPCWire",
        "ProtoMessages",
        .product(name: "NIOConcurrencyHelpers", package: nio),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "NIOHTTP1", package: nio),
        .product(name: "NIOExtras", package: "swift-nio-extras"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .executableTarget(
      name: "EchoClient",
      dependencies: [
        "EchoClientCore",
        "HTTP1Serving",
        "GRPCClientChannel",
        "ListenerOptions",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOCore", package: nio),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),

    // MARK: Tests.
    .testTarget(
      name: "GRPCPrometheusTests",
      dependencies: [
        "GRPCPrometheus",
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    .testTarget(
      name: "GRPCPrometheusInterceptorsTests",
      dependencies: [
        "GRPCPrometheus",
        "GRPCPrometheusInterceptors",
        "ProtoMessages",
        "ProtoStubs",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    .target(
      name: "TestSupport",
      dependencies: [
        "EchoClientCore",
        "EchoServerCore",
        "GRPCClientChannel",
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
        .product(name: "Logging", package: "swift-log"),
      ],
      path: "Tests/TestSupport"
    ),
    .testTarget(
      name: "EchoServerTests",
      dependencies: [
        "EchoServerCore",
        "GRPCServerRuntime",
        "GRPCPrometheus",
        "GRPCWire",
        "TestSupport",
        "ProtoMessages",
        "ProtoStubs",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
      ]
    ),
    .testTarget(
      name: "GRPCServerRuntimeTests",
      dependencies: [
        "GRPCServerRuntime",
        "HTTP1Serving",
        "ProtoDeclarations",
        "GRPCWire",
        "GRPCPrometheus",
        "NGHTTP2",
        "ProtoMessages",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOEmbedded", package: nio),
        .product(name: "NIOHTTP1", package: nio),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    .testTarget(
      name: "HTTP1ServingTests",
      dependencies: [
        "HTTP1Serving",
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOEmbedded", package: nio),
        .product(name: "NIOHTTP1", package: nio),
      ]
    ),
    .testTarget(
      name: "NGHTTP2Tests", dependencies: ["NGHTTP2", .product(name: "NIOCore", package: nio)]),
    .testTarget(
      name: "GRPCWireTests", dependencies: ["GRPCWire", .product(name: "NIOCore", package: nio)]),
    .testTarget(
      name: "GRPCClientChannelTests",
      dependencies: [
        "GRPCClientChannel",
        "GRPCPrometheus",
        "GRPCWire",
        "NGHTTP2",
        "TestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOPosix", package: nio),
      ]
    ),
    .testTarget(
      name: "EchoClientTests",
      dependencies: [
        "EchoClientCore",
        "GRPCClientChannel",
        "GRPCWire",
        "TestSupport",
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOHTTP1", package: nio),
      ]
    ),
  ]
)

// MARK: Fuzz targets (`make fuzz`), declared only when GRPC_PROMETHEUS_FUZZ is set: libFuzzer
// supplies their `main`, so they link only with `-sanitize=fuzzer`.
if Context.environment["GRPC_PROMETHEUS_FUZZ"] != nil {
  func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["CLibFuzzer"] + dependencies, path: "Fuzz/\(name)")
  }
  package.targets += [
    .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
    fuzzTarget(
      "FuzzServerConnection",
      [
        "EchoServerCore",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOEmbedded", package: nio),
      ]),
    fuzzTarget(
      "FuzzHTTP1Server",
      [
        "HTTP1Serving",
        .product(name: "NIOCore", package: nio),
        .product(name: "NIOEmbedded", package: nio),
        .product(name: "NIOHTTP1", package: nio),
      ]),
    fuzzTarget("FuzzGRPCDeframer", ["GRPCWire", .product(name: "NIOCore", package: nio)]),
    fuzzTarget(
      "FuzzGatewayRoute", ["EchoClientCore", .product(name: "NIOHTTP1", package: nio)]),
  ]
}

// MARK: Bench peer (bench/grpc-server.sh): grpc-swift-2's own server on its HTTP/2 transport,
// with and without the project's ServerMetricsInterceptor. Declared only where its folder is:
// SwiftPM refuses a package whose target folder is missing, and the images (docker/) copy
// Sources and Tests but not bench.
let benchPeerPath = "bench/peers/grpc-swift-2"
if FileManager.default.fileExists(atPath: "\(Context.packageDirectory)/\(benchPeerPath)") {
  package.targets.append(
    .executableTarget(
      name: "GRPCSwiftEchoPeer",
      dependencies: [
        "GRPCPrometheus",
        "GRPCPrometheusInterceptors",
        "ProtoMessages",
        "ProtoStubs",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      path: benchPeerPath
    ))
}
