import CNNKit
import CNNKitTestSupport
import Foundation
import Testing

// Adaptive pooling (PyTorch's window rule): hand-checked windows and values, equality with fixed-window and global
// pooling where they coincide, every registered backend against the reference (bitwise across thread counts), the
// backward pass (average as the exact adjoint, max routed to the argmax), and validation errors.

@Suite("Adaptive pooling")
struct AdaptivePoolingTests {
    static let fixtures = FixtureFolder("adaptive-pooling")

    struct FixtureCase: Decodable, CustomStringConvertible, Sendable {
        let name: String, kind: String, output_size: [Int], output: String, indices: String?, input_view: String?
        var description: String { name }
    }

    static let cases: [FixtureCase] = fixtures.cases()

    @Test func fixturesArePresent() { #expect(Self.cases.count == 16) }

    /// PyTorch 2.15's AdaptiveMaxPool / AdaptiveAvgPool (1-D, 2-D, 3-D) on a crop of a bundled photo
    /// (Fixtures/adaptive-pooling/generate.py), on both backends; PyTorch's indices count within each plane.
    @Test(arguments: cases, ["reference", "c"])
    func matchesPyTorch(_ fixture: FixtureCase, backend: String) throws {
        var x = try Self.fixtures.tensor("input.npy")  // [1, 3, 37, 52]
        switch fixture.input_view {
        case "row0": x = try Tensor(shape: [1, 3, 52], scalars: (0..<3).flatMap { c in x.scalars[(c * 37) * 52..<(c * 37) * 52 + 52] })
        case "volume": x = try Tensor(shape: [1, 1, 3, 37, 52], scalars: x.scalars)
        default: break
        }
        let expected = try Self.fixtures.tensor(fixture.output)
        let kind: AdaptivePoolingKind = fixture.kind == "max" ? .max : .average
        let descriptor = AdaptivePoolingDescriptor(kind: kind, outputSize: fixture.output_size)
        let y = try adaptivePooling(x, descriptor, backend: .named(backend))
        #expect(y.shape == expected.shape)
        let worst = zip(y.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= (kind == .max ? 0 : 1e-6), "\(fixture.name) on \(backend): max abs error \(worst)")
        if let file = fixture.indices {
            let torchIndices = try IndexTensor(npyFile: Self.fixtures.root.appendingPathComponent(file))
            let (_, indices) = try adaptivePoolingWithIndices(x, descriptor, backend: .named(backend))
            let plane = Int64(x.shape.dropFirst(2).reduce(1, *)), perPlane = y.shape.dropFirst(2).reduce(1, *)
            let local = indices.scalars.enumerated().map { $0.element - Int64($0.offset / perPlane) * plane }
            #expect(local == torchIndices.scalars, "\(fixture.name) on \(backend)")
        }
    }

    @Test func windowsFollowPyTorchsRule() throws {
        let problem = try AdaptivePoolingProblem(descriptor: AdaptivePoolingDescriptor(kind: .average, outputSize: [3, 7]), inputShape: [1, 1, 5, 3])
        // L = 5, out = 3: [0, 2), [1, 4), [3, 5) (torch.nn.AdaptiveAvgPool1d(3) on 5 elements).
        #expect((0..<3).map { problem.window(axis: 0, index: $0) } == [0..<2, 1..<4, 3..<5])
        // L = 3, out = 7 (more outputs than inputs): every window holds one or two elements.
        #expect((0..<7).map { problem.window(axis: 1, index: $0) } == [0..<1, 0..<1, 0..<2, 1..<2, 1..<3, 2..<3, 2..<3])
    }

    @Test(arguments: ["reference", "c"])
    func valuesAndIndicesOnAHandCase(backend: String) throws {
        let x = try Tensor(shape: [1, 2, 5], scalars: [1, 2, 3, 4, 5, 5, 4, 4, .nan, 1])
        // AdaptiveAvgPool1d(3) on [1, 2, 3, 4, 5] = [1.5, 3, 4.5]; the second plane holds a NaN in its last two windows.
        let avg = try adaptivePooling(x, AdaptivePoolingDescriptor(kind: .average, outputSize: [3]), backend: .named(backend))
        #expect(Array(avg.scalars[0..<3]) == [1.5, 3, 4.5])
        #expect(avg.scalars[3] == 4.5 && avg.scalars[4].isNaN && avg.scalars[5].isNaN)
        let (max, indices) = try adaptivePoolingWithIndices(x, AdaptivePoolingDescriptor(kind: .max, outputSize: [3]), backend: .named(backend))
        #expect(Array(max.scalars[0..<4]) == [2, 4, 5, 5] && max.scalars[4].isNaN && max.scalars[5].isNaN)
        // Flat input positions; ties go to the first maximum (5 at position 5), NaN to the NaN (position 8).
        #expect(indices.scalars == [1, 3, 4, 5, 8, 8])
    }

    /// With L a multiple of out the windows are those of a kernel = stride = L/out pooling; out = 1 is global pooling.
    @Test(arguments: ["reference", "c"])
    func equalsFixedWindowsWhereTheyCoincide(backend: String) throws {
        let x = try normalTensor([2, 3, 12, 8], seed: 5)
        for kind in AdaptivePoolingKind.allCases {
            let fixedKind: PoolingKind = kind == .max ? .max : .average(countIncludePad: false)
            let adaptive = try adaptivePooling(x, AdaptivePoolingDescriptor(kind: kind, outputSize: [4, 2]), backend: .named(backend))
            let fixed = try pooling(x, PoolingDescriptor(kind: fixedKind, kernelShape: [3, 4], strides: [3, 4]), backend: .named(backend))
            #expect(relativeError(adaptive.scalars, fixed.scalars) <= 1e-6, "\(kind)")
            let one = try adaptivePooling(x, AdaptivePoolingDescriptor(kind: kind, outputSize: [1, 1]), backend: .named(backend))
            let global = try pooling(x, .global(fixedKind), backend: .named(backend))
            #expect(relativeError(one.scalars, global.scalars) <= 1e-6, "\(kind) global")
        }
        let (_, adaptiveIndices) = try adaptivePoolingWithIndices(x, AdaptivePoolingDescriptor(kind: .max, outputSize: [4, 2]), backend: .named(backend))
        let (_, fixedIndices) = try poolingWithIndices(x, PoolingDescriptor(kind: .max, kernelShape: [3, 4], strides: [3, 4]), backend: .named(backend))
        #expect(adaptiveIndices.scalars == fixedIndices.scalars)
    }

    @Test func rejectsInvalidOutputSizes() {
        let cases: [([Int], [Int], String)] = [
            ([1, 2, 8, 8], [2], "2 values, one per spatial axis"),
            ([1, 2, 8, 8], [2, 0], "every value >= 1"),
            ([1, 2, 0, 8], [2, 2], "non-zero spatial extents"),
            ([1, 2, 8], [Int.max / 2], "output_size"),
            ([1, 8], [2], "rank 3"),
        ]
        for (shape, out, expected) in cases {
            #expect {
                _ = try AdaptivePoolingProblem(descriptor: AdaptivePoolingDescriptor(kind: .max, outputSize: out), inputShape: shape)
            } throws: { "\($0)".contains(expected) }
        }
        #expect(throws: CNNKitError.self) {
            _ = try adaptivePoolingWithIndices(try Tensor(shape: [1, 1, 4], repeating: 1), AdaptivePoolingDescriptor(kind: .average, outputSize: [2]))
        }
    }

    @Test func everyBackendMatchesTheReference() {
        var draw = Draw(43)
        let report = CrossCheck.Report("adaptive pooling")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let rank = draw.pick([1, 2, 2, 3])
            let shape = [draw.int(0...2), draw.int(1...3)] + draw.list(rank, 1...(rank == 3 ? 6 : 13))
            let descriptor = AdaptivePoolingDescriptor(kind: draw.pick(AdaptivePoolingKind.allCases), outputSize: draw.list(rank, 1...(rank == 3 ? 5 : 9)))
            guard let problem = try? AdaptivePoolingProblem(descriptor: descriptor, inputShape: shape) else { continue }
            let x = draw.spikyTensor(shape, specials: true)
            let dy = draw.tensor(problem.outputShape)
            let withIndices = descriptor.kind == .max
            var expected = try! Tensor(shape: problem.outputShape)
            var expectedIndices: IndexTensor? = withIndices ? IndexTensor(validatedShape: problem.outputShape, scalars: .init(repeating: 0, count: expected.count)) : nil
            var expectedGrad = try! Tensor(shape: shape)
            do {
                try ReferenceBackend().prepare(problem).run(input: x, output: &expected, indices: &expectedIndices)
                try ReferenceBackend().prepareBackward(problem).run(input: x, outputGrad: dy, inputGrad: &expectedGrad)
            } catch {
                Issue.record("reference: \(error)")
            }
            let rule: CrossCheck.Rule = withIndices ? .exact : .tolerance(1e-5)
            for variant in BackendVariant.all(convolution: false) {
                var indices: IndexTensor? = nil
                report.check(index, problem.description, variant.description, expected: expected.scalars, rule) { threads in
                    var y = try! Tensor(shape: problem.outputShape, repeating: 99)
                    var ix: IndexTensor? = withIndices ? IndexTensor(validatedShape: problem.outputShape, scalars: .init(repeating: -7, count: y.count)) : nil
                    do { try variant.make(threads).prepare(problem).run(input: x, output: &y, indices: &ix) } catch { Issue.record("\(error)") }
                    indices = ix
                    return y.scalars
                }
                if let expectedIndices, let message = CrossCheck.mismatch(indices?.scalars ?? [], expectedIndices.scalars) {
                    report.fail(index, problem.description, variant.description, "indices: \(message)")
                }
                report.check(index, problem.description + " backward", variant.description, expected: expectedGrad.scalars,
                             .tolerance(1e-5)) { threads in
                    var dx = try! Tensor(shape: shape, repeating: 99)
                    do { try variant.make(threads).prepareBackward(problem).run(input: x, outputGrad: dy, inputGrad: &dx) } catch { Issue.record("\(error)") }
                    return dx.scalars
                }
            }
            report.compared += 1
        }
        report.finish()
    }

    /// Average: ⟨A·x, dy⟩ = ⟨x, Aᵀ·dy⟩. Max: dL/dX holds dL/dY at the argmax positions and sums to Σ dL/dY.
    @Test(arguments: ["reference", "c"])
    func backwardIsTheAdjoint(backend: String) throws {
        let x = try normalTensor([2, 2, 7, 5], seed: 9), dy = try normalTensor([2, 2, 3, 4], seed: 10)
        let average = AdaptivePoolingDescriptor(kind: .average, outputSize: [3, 4])
        let y = try adaptivePooling(x, average, backend: .named(backend))
        let dx = try adaptivePoolingBackward(x, outputGrad: dy, average, backend: .named(backend))
        let lhs = zip(y.scalars, dy.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, dx.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-5 * max(1, abs(lhs)))

        let max = AdaptivePoolingDescriptor(kind: .max, outputSize: [3, 4])
        let (_, indices) = try adaptivePoolingWithIndices(x, max, backend: .named(backend))
        let dxMax = try adaptivePoolingBackward(x, outputGrad: dy, max, backend: .named(backend))
        var expected = [Double](repeating: 0, count: x.count)
        for (i, position) in indices.scalars.enumerated() { expected[Int(position)] += Double(dy.scalars[i]) }
        #expect(relativeError(dxMax.scalars, expected.map(Float.init)) <= 1e-6)
    }
}
