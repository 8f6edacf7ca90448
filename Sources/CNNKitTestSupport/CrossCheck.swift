// The cross-check harness: seeded random data, agreement rules, thread-count determinism and failure reports
// that name the seed and the canonical problem string. Tests/CNNKitTests/CrossCheckTests.swift drives it over
// every operator family and every BackendVariant.
import CNNKit
import CNNKitConformance
import Foundation
import Testing

public enum CrossCheck {
    public static let seed: UInt64 = ProcessInfo.processInfo.environment["CNNKIT_CROSSCHECK_SEED"].flatMap { UInt64($0) } ?? 20_261_129
    /// Problems compared per family and run.
    public static let problemsPerFamily = 300
    /// Thread counts every variant runs with; results must be bitwise equal across them.
    public static let threadCounts = [1, 2, 3]

    /// How outputs must agree with the reference.
    public enum Rule {
        /// Same value (NaN matches NaN; +0 and −0 are equal).
        case exact
        /// `|a − e| <= tol + tol·|e|`, NaN matches NaN, infinities exactly.
        case tolerance(Float)
    }

    /// First disagreement between `actual` and `expected`, or nil.
    public static func mismatch(_ actual: [Float], _ expected: [Float], _ rule: Rule) -> String? {
        guard actual.count == expected.count else { return "\(actual.count) elements, expected \(expected.count)" }
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let ok: Bool
            switch rule {
            case .exact: ok = a == e || (a.isNaN && e.isNaN)
            case .tolerance(let t):
                ok = OutputComparison.matches(a, e, tolerance: ConformanceCase.Tolerance(atol: Double(t), rtol: Double(t)))
            }
            if !ok { return "element \(i): got \(a), expected \(e)" }
        }
        return nil
    }

    public static func mismatch(_ actual: [Int64], _ expected: [Int64]) -> String? {
        guard actual.count == expected.count else { return "\(actual.count) indices, expected \(expected.count)" }
        if let i = actual.indices.first(where: { actual[$0] != expected[$0] }) {
            return "index \(i): got \(actual[i]), expected \(expected[i])"
        }
        return nil
    }

    /// First element whose bits differ (thread-count determinism).
    public static func bitwiseMismatch(_ a: [Float], _ b: [Float]) -> String? {
        guard a.count == b.count else { return "sizes differ" }
        if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) { return "element \(i): \(a[i]) vs \(b[i])" }
        return nil
    }

    /// Collects failures of one family and reports at most a few, each with seed and problem string.
    public final class Report {
        public let family: String
        public var compared = 0
        public var failures = 0
        public init(_ family: String) { self.family = family }

        public func fail(_ index: Int, _ problem: String, _ variant: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            failures += 1
            guard failures <= 5 else { return }
            Issue.record(
                "\(family) case \(index) (CNNKIT_CROSSCHECK_SEED=\(CrossCheck.seed)) \(problem) on \(variant): \(message)",
                sourceLocation: sourceLocation)
        }

        /// Runs `run` (the C backend's output at a thread count) at every thread count, checks that the results are
        /// bitwise equal and agree with `expected` under `rule`.
        public func check(
            _ index: Int, _ problem: String, _ variant: String = "c", expected: [Float], _ rule: Rule,
            run: (Int) -> [Float], sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let output = acrossThreads(self, index, problem, variant) { (run($0), ()) }.output
            if let message = CrossCheck.mismatch(output, expected, rule) {
                fail(index, problem, variant, message, sourceLocation: sourceLocation)
            }
        }

        public func finish(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(compared >= CrossCheck.problemsPerFamily, "\(family): only \(compared) problems compared", sourceLocation: sourceLocation)
            if failures > 5 { Issue.record("\(family): \(failures) failures in all", sourceLocation: sourceLocation) }
        }
    }
}

/// Random test data and shapes, from one SplitMix64 stream per family.
public struct Draw {
    public var rng: SeededGenerator
    public init(_ family: UInt64) { rng = SeededGenerator(seed: CrossCheck.seed &* 0x9E37_79B9 &+ family) }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    public mutating func pick<T>(_ options: [T]) -> T { options[int(0...options.count - 1)] }
    public mutating func list(_ count: Int, _ range: ClosedRange<Int>) -> [Int] { (0..<count).map { _ in int(range) } }

    /// Uniform values in [-1, 1).
    public mutating func tensor(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        return try! Tensor(shape: shape, scalars: (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) })
    }

    /// Values that make max pooling interesting: ties (small integers), ±0, and now and then ±inf or NaN.
    public mutating func spikyTensor(_ shape: [Int], specials: Bool) -> Tensor {
        let count = shape.reduce(1, *)
        let specialValues: [Float] = [.infinity, -.infinity, .nan, -0.0, 0.0]
        return try! Tensor(shape: shape, scalars: (0..<count).map { _ in
            if specials && chance(0.03) { return pick(specialValues) }
            return chance(0.5) ? Float(int(-3...3)) : Float.random(in: -4..<4, using: &rng)
        })
    }
}

/// Runs `body` with every thread count and checks the results are bitwise equal; returns the 1-thread result.
public func acrossThreads<T>(
    _ report: CrossCheck.Report, _ index: Int, _ problem: String, _ variant: String,
    _ body: (Int) -> (output: [Float], extra: T)
) -> (output: [Float], extra: T) {
    let first = body(CrossCheck.threadCounts[0])
    for threads in CrossCheck.threadCounts.dropFirst() {
        let other = body(threads)
        if let message = CrossCheck.bitwiseMismatch(other.output, first.output) {
            report.fail(index, problem, "\(variant) threads \(threads) vs 1", message)
        }
    }
    return first
}

