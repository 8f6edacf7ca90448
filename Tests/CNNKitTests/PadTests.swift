import CNNKit
import CNNKitTestSupport
import Testing

// Pad (ONNX Pad-19) and the border modes: the index mapping against the documented table, hand-checked NumPy
// results, validation errors, every registered backend against the reference (forward exact, backward within
// float rounding, bitwise across thread counts), and the backward pass as the exact adjoint of the forward pass.

@Suite("Pad and border modes")
struct PadTests {
    /// `a b c d` padded by 3 on each side, as the BorderMode documentation table shows it (0 = a … 3 = d, nil = v).
    @Test func sourceIndexMatchesTheDocumentedTable() {
        let table: [BorderMode: [Int?]] = [
            .constant: [nil, nil, nil, 0, 1, 2, 3, nil, nil, nil],
            .reflect: [3, 2, 1, 0, 1, 2, 3, 2, 1, 0],
            .symmetric: [2, 1, 0, 0, 1, 2, 3, 3, 2, 1],
            .edge: [0, 0, 0, 0, 1, 2, 3, 3, 3, 3],
            .wrap: [1, 2, 3, 0, 1, 2, 3, 0, 1, 2],
        ]
        for mode in BorderMode.allCases {
            #expect((-3..<7).map { mode.sourceIndex($0, extent: 4) } == table[mode]!, "\(mode)")
        }
        // Far out the patterns repeat (NumPy's reading): reflect has period 2(n − 1), symmetric and wrap 2n and n.
        #expect(BorderMode.reflect.sourceIndex(-7, extent: 4) == 1)
        #expect(BorderMode.symmetric.sourceIndex(9, extent: 4) == 1)
        #expect(BorderMode.wrap.sourceIndex(-9, extent: 4) == 3)
        #expect(BorderMode.reflect.sourceIndex(5, extent: 1) == 0)
    }

    /// numpy.pad results worked by hand, including a mode ONNX lacks (symmetric) and crop-then-pad.
    @Test(arguments: ["reference", "c"])
    func matchesNumPyOnSmallCases(backend: String) throws {
        let x = try Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        func run(_ d: PadDescriptor) throws -> [Float] { try pad(x, d, backend: .named(backend)).scalars }
        // np.pad(x, ((0,0),(0,0),(1,0),(0,2)), 'symmetric')
        #expect(try run(PadDescriptor(mode: .symmetric, pads: [1, 0, 0, 2], axes: [2, 3]))
            == [1, 2, 3, 3, 2, 1, 2, 3, 3, 2, 4, 5, 6, 6, 5])
        // np.pad(x, ..., ((0,0),(0,0),(0,0),(2,1)), 'reflect')
        #expect(try run(PadDescriptor(mode: .reflect, pads: [0, 0, 0, 2, 0, 0, 0, 1]))
            == [3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5])
        // Constant 7 on rows, a crop of one column at the end.
        #expect(try run(PadDescriptor(mode: .constant, pads: [1, 0, 0, -1], constantValue: 7, axes: [-2, -1]))
            == [7, 7, 1, 2, 4, 5])
        // Crop first, then pad (onnxruntime): wrap of the kept columns [2, 3] only.
        #expect(try run(PadDescriptor(mode: .wrap, pads: [-1, 2], axes: [3]))
            == [2, 3, 2, 3, 5, 6, 5, 6])
        // Edge on the batch axis too.
        let y = try pad(x, PadDescriptor(mode: .edge, pads: [1, 0, 0, 0, 0, 0, 0, 1]), backend: .named(backend))
        #expect(y.shape == [2, 1, 2, 4])
        #expect(y.scalars == [1, 2, 3, 3, 4, 5, 6, 6, 1, 2, 3, 3, 4, 5, 6, 6])
    }

    @Test func rejectsInvalidPads() {
        let shape = [1, 2, 4, 5]
        let cases: [(PadDescriptor, String)] = [
            (PadDescriptor(mode: .reflect, pads: [0, 0, 4, 0, 0, 0, 0, 0]), "reflect pads below the extent 4"),
            (PadDescriptor(mode: .reflect, pads: [2, -3], axes: [3]), "reflect pads below the extent 2"),
            (PadDescriptor(pads: [1, 2, 3]), "2·4 = 8 values"),
            (PadDescriptor(pads: [1, 1], axes: [4]), "every axis in [-4, 4)"),
            (PadDescriptor(pads: [1, 1, 1, 1], axes: [2, -2]), "no axis named twice"),
            (PadDescriptor(pads: [-3, -3], axes: [2]), "would keep -2"),
            (PadDescriptor(mode: .edge, pads: [-4, 1], axes: [2]), "empty axis"),
            (PadDescriptor(pads: [1 << 62, 0], axes: [2]), "within ±2^60"),
        ]
        for (descriptor, expected) in cases {
            #expect {
                _ = try PadProblem(descriptor: descriptor, inputShape: shape)
            } throws: { error in
                "\(error)".contains("pads") && "\(error)".contains(expected) || "\(error)".contains("axes") && "\(error)".contains(expected)
            }
        }
        // Constant padding of an empty axis is fine, and an empty output needs no input.
        #expect((try? PadProblem(descriptor: PadDescriptor(pads: [2, 1], axes: [2]), inputShape: [1, 1, 0, 3]))?.outputShape == [1, 1, 3, 3])
        #expect((try? PadProblem(descriptor: PadDescriptor(mode: .wrap, pads: [0, 0], axes: [2]), inputShape: [1, 1 << 40, 0, 1 << 20]))?.outputShape == [1, 1 << 40, 0, 1 << 20])
    }

    static func randomProblem(_ draw: inout Draw) -> PadProblem? {
        let rank = draw.int(1...5)
        var shape = draw.list(rank, 1...6)
        if draw.chance(0.05) { shape[draw.int(0...rank - 1)] = 0 }
        let mode = draw.pick(BorderMode.allCases)
        let axes: [Int]? = draw.chance(0.4) ? Array(Set(draw.list(draw.int(1...rank), -rank...rank - 1).map { ($0 + rank) % rank })).map { draw.chance(0.5) ? $0 - rank : $0 } : nil
        let count = axes?.count ?? rank
        let pads = draw.list(2 * count, -3...5)
        let descriptor = PadDescriptor(mode: mode, pads: pads, constantValue: draw.pick([0, 1.5, -.infinity]), axes: axes)
        return try? PadProblem(descriptor: descriptor, inputShape: shape)
    }

    @Test func everyBackendMatchesTheReference() {
        var draw = Draw(41)
        let report = CrossCheck.Report("pad")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            guard let problem = Self.randomProblem(&draw) else { continue }
            let x = draw.spikyTensor(problem.inputShape, specials: true)
            let dy = draw.tensor(problem.outputShape)
            var expected = try! Tensor(shape: problem.outputShape)
            var expectedGrad = try! Tensor(shape: problem.inputShape)
            do {
                try ReferenceBackend().prepare(problem).run(input: x, output: &expected)
                try ReferenceBackend().prepareBackward(problem).run(outputGrad: dy, inputGrad: &expectedGrad)
            } catch {
                Issue.record("reference: \(error)")
            }
            for variant in BackendVariant.all(convolution: false) {
                report.check(index, problem.description, variant.description, expected: expected.scalars, .exact) { threads in
                    var y = try! Tensor(shape: problem.outputShape, repeating: 99)
                    do { try variant.make(threads).prepare(problem).run(input: x, output: &y) } catch { Issue.record("\(error)") }
                    return y.scalars
                }
                // Edge and wrap borders sum hundreds of dY terms into a corner: float32 sums, as the gradient checks.
                report.check(index, problem.description + " backward", variant.description, expected: expectedGrad.scalars,
                             .tolerance(1e-4)) { threads in
                    var dx = try! Tensor(shape: problem.inputShape, repeating: 99)
                    do { try variant.make(threads).prepareBackward(problem).run(outputGrad: dy, inputGrad: &dx) } catch { Issue.record("\(error)") }
                    return dx.scalars
                }
            }
            report.compared += 1
        }
        report.finish()
    }

    /// The backward pass is the adjoint: ⟨pad(x), dy⟩ = ⟨x, padBackward(dy)⟩ for constant 0 (a linear map).
    @Test(arguments: ["reference", "c"])
    func backwardIsTheAdjoint(backend: String) throws {
        var draw = Draw(42)
        var checked = 0
        while checked < 40 {
            guard var problem = Self.randomProblem(&draw) else { continue }
            var d = problem.descriptor
            d.constantValue = 0
            problem = try PadProblem(descriptor: d, inputShape: problem.inputShape)
            let x = draw.tensor(problem.inputShape), dy = draw.tensor(problem.outputShape)
            let y = try pad(x, d, backend: .named(backend))
            let dx = try padBackward(outputGrad: dy, inputShape: x.shape, d, backend: .named(backend))
            let lhs = zip(y.scalars, dy.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(x.scalars, dx.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "\(problem): \(lhs) vs \(rhs)")
            checked += 1
        }
    }
}
