import CNNKit
import CNNKitTestSupport
import Foundation
import Testing

// The ResizeDescriptor presets against the libraries themselves: Fixtures/resize-presets holds a 48×40 crop of
// chelsea.png and what OpenCV, Pillow, PyTorch and TensorFlow make of it (generate.py, float32 throughout). Each
// case runs on the reference backend and on every variant of every other registered backend. The tolerances are
// the measured max error (printed by the test, and quoted in the Resampling article) with some margin; the
// reason for each is next to it.

private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/resize-presets")

struct PresetCase: Decodable, Sendable, CustomTestStringConvertible {
    let library: String
    let mode: String
    let align_corners: Bool
    let antialias: Bool
    let volume: Bool
    let file: String
    let size: [Int]?
    let scale: [Float]?
    var testDescription: String { file }

    var target: ResizeTarget { size.map { .sizes($0) } ?? .scales(scale ?? []) }

    /// The preset this case checks.
    func descriptor() throws -> ResizeDescriptor {
        switch library {
        case "opencv": return .opencv(try parse(ResizeDescriptor.OpenCVInterpolation.self), target: target)
        case "pillow": return .pillow(try parse(ResizeDescriptor.PillowFilter.self), target: target)
        case "pytorch":
            let name = mode == "bilinear" || mode == "trilinear" ? "linear" : mode
            guard let m = ResizeDescriptor.PyTorchMode(rawValue: name) else { throw PresetFixtureError("mode \(mode)") }
            return try .pytorch(m, target: target, alignCorners: align_corners, antialias: antialias)
        case "tensorflow": return .tensorflow(try parse(ResizeDescriptor.TensorFlowMethod.self), target: target, antialias: antialias)
        default: throw PresetFixtureError("library \(library)")
        }
    }

    private func parse<T: RawRepresentable>(_: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: mode) else { throw PresetFixtureError("\(library) mode \(mode)") }
        return value
    }

    /// Allowed max |CNNKit − library| (the input is in [0, 1]).
    var tolerance: Float {
        switch (library, mode) {
        // Same index arithmetic, a copy: exact.
        case (_, "nearest"), (_, "nearest-exact"): return 0
        // TensorFlow's ResizeBicubic looks the weights up in a table of 1024 fractions (CNNKit evaluates them).
        case ("tensorflow", "bicubic") where !antialias: return 2e-4
        // TensorFlow's ResizeArea sums in float32 (3.0e-6 measured when enlarging).
        case ("tensorflow", "area"): return 5e-6
        // Float32 weights and sums in the libraries, Double in CNNKit's tap definition, float32 taps in C; Pillow
        // rounds its horizontal pass to float32 before the vertical one.
        default: return 2e-6
        }
    }

    /// OpenCV nearest-exact and Pillow nearest compute `floor((x + 0.5)·(L_in/L_out))` with the ratio rounded to a
    /// double, so where the exact product is a whole number they may take the pixel before. Such outputs ("ties")
    /// are exempt from the exact comparison; every other output must match exactly.
    var exemptsTies: Bool { (library == "opencv" && mode == "nearest-exact") || (library == "pillow" && mode == "nearest") }

    static let all: [PresetCase] = {
        struct Manifest: Decodable { let cases: [PresetCase] }
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("manifest.json")),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { return [] }
        return manifest.cases
    }()
}

struct PresetFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String) { description = "resize-presets fixture: unknown \(what)" }
}

@Suite("Resize presets against OpenCV, Pillow, PyTorch and TensorFlow")
struct ResizePresetTests {
    static let backends: [(String, any Backend)] = [("reference", ReferenceBackend())]
        + BackendVariant.all(convolution: false).map { ($0.description, $0.make(2)) }

    static func input(volume: Bool) throws -> Tensor {
        let rgb = try Tensor(npyFile: folder.appendingPathComponent("input.npy"))  // [1, 3, 40, 48]
        if volume { return try Tensor(shape: [1, 1, 3, 40, 48], scalars: rgb.scalars) }
        return try Tensor(shape: [1, 1, 40, 48], scalars: Array(rgb.scalars[40 * 48..<2 * 40 * 48]))
    }

    @Test func manifestCoversEveryPreset() {
        #expect(PresetCase.all.count == 77)
        let libraries = Set(PresetCase.all.map(\.library))
        #expect(libraries == ["opencv", "pillow", "pytorch", "tensorflow"])
        for mode in ResizeDescriptor.OpenCVInterpolation.allCases {
            #expect(PresetCase.all.contains { $0.library == "opencv" && $0.mode == mode.rawValue }, "opencv \(mode)")
        }
        for filter in ResizeDescriptor.PillowFilter.allCases {
            #expect(PresetCase.all.contains { $0.library == "pillow" && $0.mode == filter.rawValue }, "pillow \(filter)")
        }
        for method in ResizeDescriptor.TensorFlowMethod.allCases {
            #expect(PresetCase.all.contains { $0.library == "tensorflow" && $0.mode == method.rawValue }, "tensorflow \(method)")
        }
    }

    @Test("Preset matches the library", arguments: PresetCase.all)
    func preset(_ c: PresetCase) throws {
        let x = try Self.input(volume: c.volume)
        let expected = try Tensor(npyFile: folder.appendingPathComponent(c.file))
        let problem = try ResizeProblem(descriptor: c.descriptor(), inputShape: x.shape)
        #expect(Array(problem.outputShape.suffix(expected.shape.count)) == expected.shape)
        #expect(problem.outputShape.reduce(1, *) == expected.count)
        guard problem.outputShape.reduce(1, *) == expected.count else { return }
        // Output rows / columns where (o + 0.5)·L_in/L_out is a whole number: (2o + 1)·L_in divisible by 2·L_out.
        let (inH, inW, outH, outW) = (x.shape[2], x.shape[3], problem.outputShape[2], problem.outputShape[3])
        let tieRows = Set((0..<outH).filter { ((2 * $0 + 1) * inH) % (2 * outH) == 0 })
        let tieColumns = Set((0..<outW).filter { ((2 * $0 + 1) * inW) % (2 * outW) == 0 })
        var worst: [String] = []
        for (name, backend) in Self.backends {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            backend.resize(problem, input: x, output: &y)
            var error: Float = 0, ties = 0
            for (i, (a, e)) in zip(y.scalars, expected.scalars).enumerated() {
                let tie = c.exemptsTies && !c.volume && (tieRows.contains(i / outW % outH) || tieColumns.contains(i % outW))
                if tie && a != e { ties += 1; continue }
                error = max(error, abs(a - e))
            }
            #expect(error <= c.tolerance, "\(c.file) on \(name): max error \(error) > \(c.tolerance)")
            if ties > 0 { worst.append("\(name) \(ties) of \(y.count) outputs differ, all at ties") }
            #expect(!y.scalars.contains { $0.isNaN }, "\(c.file) on \(name)")
            worst.append("\(name) \(error)")
        }
        print("resize-preset \(c.file): max error \(worst.joined(separator: ", "))")
    }

    /// The new filters' backward passes use the same taps: the C adjoint equals the reference one, which
    /// GradientTests checks against finite differences for every ResizeMode.
    @Test(arguments: [ResizeMode.area, .box, .hamming, .lanczos3])
    func backwardOfNewModes(_ mode: ResizeMode) throws {
        let descriptor = ResizeDescriptor(target: .sizes([5, 3]), mode: mode, excludeOutside: true, antialias: true, axes: [2, 3])
        let problem = try ResizeProblem(descriptor: descriptor, inputShape: [1, 2, 21, 13])
        var draw = Draw(7)
        let dy = draw.tensor(problem.outputShape)
        var expected = try Tensor(shape: problem.inputShape)
        try ReferenceBackend().prepareBackward(problem).run(outputGrad: dy, inputGrad: &expected)
        #expect(expected.scalars.contains { $0 != 0 })
        for (name, backend) in Self.backends.dropFirst() {
            var dx = try Tensor(shape: problem.inputShape, repeating: .nan)
            try backend.prepareBackward(problem).run(outputGrad: dy, inputGrad: &dx)
            let error = zip(dx.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
            #expect(error <= 1e-5, "\(mode) dX on \(name): \(error)")
        }
    }

    /// A Lanczos-3 antialiased shrink by 4 has 24+ taps per axis; by 16, about 100: the C tables take any width.
    @Test func wideFiltersOnEveryBackend() throws {
        let x = try Self.input(volume: false)
        for size in [[10, 12], [2, 3]] {
            let problem = try ResizeProblem(descriptor: .pillow(.lanczos, target: .sizes(size)), inputShape: x.shape)
            #expect((problem.taps(axis: 3, outputIndex: size[1] / 2)?.count ?? 0) >= (size[1] == 12 ? 24 : 48))
            // The channel axis (scale 1) is one tap of weight 1, not six with sin(kπ) ≈ 1e-16 weights.
            #expect(problem.taps(axis: 1, outputIndex: 0)?.map(\.weight) == [1])
            var expected = try Tensor(shape: problem.outputShape)
            ReferenceBackend().resize(problem, input: x, output: &expected)
            for (name, backend) in Self.backends.dropFirst() {
                var y = try Tensor(shape: problem.outputShape, repeating: .nan)
                backend.resize(problem, input: x, output: &y)
                let error = zip(y.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
                #expect(error <= 1e-5, "\(problem) on \(name): \(error)")
            }
        }
    }

    /// Area at any scale is box coverage: a constant image stays constant, and an integer shrink is the block mean.
    @Test func areaDefinition() throws {
        let x = try Self.input(volume: false)
        let shrink = try ResizeProblem(descriptor: ResizeDescriptor(target: .sizes([10, 12]), mode: .area, axes: [2, 3]), inputShape: x.shape)
        var y = try Tensor(shape: shrink.outputShape)
        ReferenceBackend().resize(shrink, input: x, output: &y)
        var mean = 0.0
        for r in 0..<4 { for c in 0..<4 { mean += Double(x.scalars[(4 + r) * 48 + 8 + c]) } }
        #expect(abs(Double(y.scalars[1 * 12 + 2]) - mean / 16) < 1e-6)
        for scale: Float in [0.4, 0.77, 1.3, 2.5] {
            let problem = try ResizeProblem(descriptor: ResizeDescriptor(target: .scales([scale, scale]), mode: .area, axes: [2, 3]),
                                            inputShape: [1, 1, 9, 7])
            for axis in [2, 3] {
                for o in 0..<problem.outputShape[axis] {
                    let taps = try #require(problem.taps(axis: axis, outputIndex: o))
                    #expect(abs(taps.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
                    #expect(taps.allSatisfy { $0.weight > 0 })
                }
            }
        }
        // 0.4 = 2.5 pixels per output: output 1 covers [2.5, 5): half of pixel 2, all of 3 and 4.
        let p = try ResizeProblem(descriptor: ResizeDescriptor(target: .scales([0.4]), mode: .area), inputShape: [10])
        let taps = try #require(p.taps(axis: 0, outputIndex: 1))
        #expect(taps.map(\.index) == [2, 3, 4])
        #expect(zip(taps.map(\.weight), [0.2, 0.4, 0.4]).allSatisfy { abs($0 - $1) < 1e-7 })  // Float(0.4) ≠ 0.4
    }

    /// `excludeOutside` with a filter that reaches only past the edge (box or area, asymmetric ×2 and ×4): the
    /// nearest input element stands in, on every backend (fuzz-found: the reference indexed an empty tap list).
    @Test(arguments: [ResizeMode.box, .area])
    func excludeOutsideLeavingNoTap(_ mode: ResizeMode) throws {
        let x = try Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        for scale: Float in [2, 4] {
            let d = ResizeDescriptor(target: .scales([scale, scale]), mode: mode, coordinateTransformation: .asymmetric,
                                     excludeOutside: true, axes: [2, 3])
            let problem = try ResizeProblem(descriptor: d, inputShape: x.shape)
            for (name, backend) in Self.backends {
                var y = try Tensor(shape: problem.outputShape, repeating: .nan)
                backend.resize(problem, input: x, output: &y)
                #expect(y.scalars.last == 6, "\(mode) ×\(scale) on \(name): \(y.scalars)")
                #expect(y.scalars.first == 1, "\(mode) ×\(scale) on \(name)")
            }
        }
    }

    @Test func pytorchRefusals() {
        #expect(throws: CNNKitError.self) { try ResizeDescriptor.pytorch(.nearest, target: .sizes([4, 4]), alignCorners: true) }
        #expect(throws: CNNKitError.self) { try ResizeDescriptor.pytorch(.nearestExact, target: .sizes([4, 4]), antialias: true) }
        #expect(throws: CNNKitError.self) { try ResizeDescriptor.pytorch(.bicubic, target: .sizes([4, 4]), alignCorners: true, antialias: true) }
    }
}
