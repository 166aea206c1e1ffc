import GRPCCore
import GRPCPrometheus
import NIOConcurrencyHelpers

/// The metric handles of each method descriptor an interceptor has seen, so an RPC costs one
/// locked dictionary read rather than label building and registry lookups.
final class MethodMetricsCache<Handles: Sendable>: Sendable {
  private let handles = NIOLockedValueBox<[MethodDescriptor: Handles]>([:])
  private let make: @Sendable (GRPCMethod) -> Handles

  init(make: @escaping @Sendable (GRPCMethod) -> Handles) {
    self.make = make
  }

  /// The handles of `descriptor`, registered with `type` if the descriptor has none.
  ///
  /// A descriptor without a type that matches a method registered earlier by name reuses that
  /// registration, so pre-registering with an explicit type also fixes the label at run time.
  /// With no registration either, the method is labelled `bidi_stream`, the one shape that
  /// claims nothing about message counts.
  func handles(for descriptor: MethodDescriptor, type: GRPCType? = nil) -> Handles {
    self.handles.withLockedValue { handles in
      if let cached = handles[descriptor] {
        return cached
      }
      let created: Handles
      if descriptor.type == nil, type == nil,
        let named = handles.first(where: {
          $0.key.service == descriptor.service && $0.key.method == descriptor.method
        })
      {
        created = named.value
      } else {
        created = self.make(GRPCMethod(descriptor, fallback: type ?? .bidiStream))
      }
      handles[descriptor] = created
      return created
    }
  }
}
