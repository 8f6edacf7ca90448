// Seeded test data shared by every test of a backend.
import CNNKit
import Foundation

/// A deterministic pseudo-random generator for test data (SplitMix64).
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return StochasticSampling.mix(state)
    }
}

/// A tensor of small integers in `-range...range`: sums of products of such values are exact in float32.
public func integerTensor(_ shape: [Int], range: Int = 4, seed: UInt64) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float(Int.random(in: -range...range, using: &generator)) })
}

/// Normal(0, 1) values (Box–Muller) from a seeded stream.
public func normalTensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ -> Float in
        let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
    return try Tensor(shape: shape, scalars: values)
}

/// max |a − e| / max |e|.
public func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    let scale = expected.map { abs(Double($0)) }.max() ?? 0
    let worst = zip(actual, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale == 0 ? worst : worst / scale
}
