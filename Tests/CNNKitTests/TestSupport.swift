import Foundation
import Testing
import CNNKit

/// Every registered backend name; definition tests run on each of them.
let allBackends = BackendRegistry.shared.names

/// A deterministic pseudo-random generator for test data (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return StochasticSampling.mix(state)
    }
}

/// A tensor of small integers in `-range...range`: sums of products of such values are exact in float32.
func integerTensor(_ shape: [Int], range: Int = 4, seed: UInt64) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float(Int.random(in: -range...range, using: &generator)) })
}

/// Asserts `body` throws a ``CNNKitError`` whose parameter is `parameter`.
func expectError(parameter: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a CNNKitError naming \(parameter), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CNNKitError {
        #expect(error.parameter == parameter, "error was: \(error)", sourceLocation: sourceLocation)
        #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CNNKitError, got \(error)", sourceLocation: sourceLocation)
    }
}
