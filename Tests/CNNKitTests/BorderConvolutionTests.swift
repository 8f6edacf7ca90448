import CNNKit
import CNNKitTestSupport
import Foundation
import Testing

// Convolution with a border mode (ConvolutionDescriptor.border): OpenCV filter2D on real photo crops under each
// border type (Fixtures/border, made by generate.py), the reference's inline mapping against an explicit Pad +
// unpadded convolution, every registered backend against the reference forward and backward, and validation.

@Suite("Convolution border modes")
struct BorderConvolutionTests {
    static let fixtures = FixtureFolder("border")

    struct FixtureCase: Decodable, CustomStringConvertible, Sendable {
        let name: String, input: String, kernel: String, border: String, pads: [Int], expected: String
        var description: String { name }
    }

    static let cases: [FixtureCase] = fixtures.cases()

    @Test func fixturesArePresent() {
        #expect(Self.cases.count == 16)
    }

    /// cv2.filter2D (BORDER_REFLECT_101 / REFLECT / REPLICATE, and WRAP through copyMakeBorder) equals CNNKit's
    /// depthwise convolution with border reflect / symmetric / edge / wrap, on every backend variant.
    @Test(arguments: cases)
    func matchesOpenCVFilter2D(_ fixture: FixtureCase) throws {
        let image = try Self.fixtures.tensor(fixture.input)
        let kernel = try Self.fixtures.tensor(fixture.kernel)
        let expected = try Self.fixtures.tensor(fixture.expected)
        let channels = image.rank == 2 ? 1 : image.shape[0]
        let x = try Tensor(shape: [1, channels] + image.shape.suffix(2), scalars: image.scalars)
        let w = try Tensor(shape: [channels, 1] + kernel.shape, scalars: Array((0..<channels).map { _ in kernel.scalars }.joined()))
        let descriptor = ConvolutionDescriptor(pads: fixture.pads, group: channels, border: try #require(BorderMode(rawValue: fixture.border)))
        var outputs: [(String, Tensor)] = [("reference", try convolution(x, weight: w, descriptor, backend: "reference"))]
        let problem = try ConvolutionProblem(descriptor: descriptor, inputShape: x.shape, weightShape: w.shape)
        for variant in BackendVariant.all(convolution: true) where variant.make(2).supports(problem) {
            let plan = try ConvolutionPlan(descriptor, inputShape: x.shape, weightShape: w.shape, on: variant.make(2))
            outputs.append((variant.description, try plan.run(input: x, weight: w)))
        }
        for (name, y) in outputs {
            #expect(y.shape == [1, channels] + expected.shape.suffix(2), "\(name)")
            let worst = zip(y.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 2e-6, "\(fixture.name) on \(name): max abs error \(worst)")
        }
    }

    static func randomProblem(_ draw: inout Draw) -> (ConvolutionProblem, BorderMode)? {
        let rank = draw.pick([1, 2, 2, 3])
        let group = draw.pick([1, 1, 2, 3]), cg = draw.int(1...3), mg = draw.int(1...4)
        let size = draw.list(rank, 2...(rank == 3 ? 5 : 9))
        let kernel = draw.list(rank, 1...3), strides = draw.list(rank, 1...2), dilations = draw.list(rank, 1...2)
        let border = draw.pick([BorderMode.reflect, .symmetric, .edge, .wrap])
        let pads = (0..<2 * rank).map { _ in draw.int(0...2) }
        var descriptor = ConvolutionDescriptor(strides: strides, pads: pads, dilations: dilations, group: group,
                                               mode: draw.chance(0.3) ? .convolution : .crossCorrelation, border: border)
        if draw.chance(0.2) { (descriptor.pads, descriptor.autoPad) = ([], draw.pick([.sameUpper, .sameLower])) }
        guard let problem = try? ConvolutionProblem(
            descriptor: descriptor, inputShape: [draw.int(1...2), group * cg] + size, weightShape: [group * mg, cg] + kernel,
            biasShape: draw.chance(0.5) ? [group * mg] : nil) else { return nil }
        return (problem, border)
    }

    /// The reference's inline border mapping equals an explicit Pad followed by the same convolution unpadded.
    @Test func referenceEqualsPadThenConvolve() throws {
        var draw = Draw(51)
        var checked = 0
        while checked < 150 {
            guard let (problem, border) = Self.randomProblem(&draw) else { continue }
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
            let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
            let g = problem.geometry
            let padded = try pad(x, PadDescriptor(mode: border, pads: [0, 0] + g.padBegin + [0, 0] + g.padEnd), backend: "reference")
            var valid = problem.descriptor
            (valid.pads, valid.autoPad, valid.border) = ([], .notSet, .constant)
            let expected = try convolution(padded, weight: w, bias: b, valid, backend: "reference")
            let y = try convolution(x, weight: w, bias: b, problem.descriptor, backend: "reference")
            #expect(relativeError(y.scalars, expected.scalars) <= 1e-6, "\(problem)")
            checked += 1
        }
    }

    @Test func everyBackendMatchesTheReference() {
        var draw = Draw(52)
        let report = CrossCheck.Report("border convolution")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            guard let (problem, _) = Self.randomProblem(&draw) else { continue }
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
            let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
            let dy = draw.tensor(problem.outputShape)
            var expected = try! Tensor(shape: problem.outputShape)
            var dx: Tensor? = try! Tensor(shape: problem.inputShape), dw: Tensor? = try! Tensor(shape: problem.weightShape)
            var db: Tensor? = problem.hasBias ? try! Tensor(shape: [problem.outputChannels]) : nil
            do {
                try ReferenceBackend().prepare(problem, constants: .none).run(input: x, weight: w, bias: b, output: &expected)
                try ReferenceBackend().prepareBackward(problem).run(input: x, weight: w, outputGrad: dy, inputGrad: &dx, weightGrad: &dw, biasGrad: &db)
            } catch {
                Issue.record("reference: \(error)")
            }
            let expectedGrads = dx!.scalars + dw!.scalars + (db?.scalars ?? [])
            for variant in BackendVariant.all(convolution: true) where variant.make(1).supports(problem) {
                report.check(index, problem.description, variant.description, expected: expected.scalars, .tolerance(1e-4)) { threads in
                    var y = try! Tensor(shape: problem.outputShape, repeating: 99)
                    do { try variant.make(threads).prepare(problem, constants: .none).run(input: x, weight: w, bias: b, output: &y) }
                    catch { Issue.record("\(variant): \(error)") }
                    return y.scalars
                }
            }
            report.check(index, problem.description + " backward", "c", expected: expectedGrads, .tolerance(1e-4)) { threads in
                var gx: Tensor? = try! Tensor(shape: problem.inputShape, repeating: 99)
                var gw: Tensor? = try! Tensor(shape: problem.weightShape, repeating: 99)
                var gb: Tensor? = problem.hasBias ? try! Tensor(shape: [problem.outputChannels], repeating: 99) : nil
                do { try CBackend(threads: threads).prepareBackward(problem).run(input: x, weight: w, outputGrad: dy, inputGrad: &gx, weightGrad: &gw, biasGrad: &gb) }
                catch { Issue.record("c backward: \(error)") }
                return gx!.scalars + gw!.scalars + (gb?.scalars ?? [])
            }
            report.compared += 1
        }
        report.finish()
    }

    @Test func rejectsPadsTheBorderCannotFill() {
        let shape = [1, 1, 3, 8], weight = [1, 1, 3, 3]
        let cases: [(BorderMode, [Int], String)] = [
            (.reflect, [3, 0, 0, 0], "pads of at most 2 on spatial axis 0 of extent 3 for border reflect"),
            (.symmetric, [0, 0, 4, 0], "pads of at most 3 on spatial axis 0"),
            (.wrap, [0, 9, 0, 0], "pads of at most 8 on spatial axis 1"),
        ]
        for (border, pads, expected) in cases {
            #expect {
                _ = try ConvolutionProblem(descriptor: ConvolutionDescriptor(pads: pads, border: border), inputShape: shape, weightShape: weight)
            } throws: { "\($0)".contains(expected) }
        }
        // Edge repeats the edge element as far as asked; a constant border takes any pads.
        #expect((try? ConvolutionProblem(descriptor: ConvolutionDescriptor(pads: [5, 5, 5, 5], border: .edge), inputShape: shape, weightShape: weight)) != nil)
        #expect((try? ConvolutionProblem(descriptor: ConvolutionDescriptor(pads: [5, 5, 5, 5]), inputShape: shape, weightShape: weight)) != nil)
    }
}
