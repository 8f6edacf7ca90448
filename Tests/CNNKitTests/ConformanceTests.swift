import CNNKit
import Foundation
import Testing
import CNNKitConformance

// MARK: - Fixture cases

/// One case folder of `Fixtures/conformance`, named `source/case` in test output.
struct FixtureCase: Sendable, CustomTestStringConvertible {
    let folder: URL
    var testDescription: String {
        "\(folder.deletingLastPathComponent().lastPathComponent)/\(folder.lastPathComponent)"
    }
}

enum Fixtures {
    /// `Tests/CNNKitTests/Fixtures/conformance`, located from this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/conformance", isDirectory: true)

    /// Every fixture case folder; empty if discovery throws (``discoversEveryFixtureCase`` then fails).
    static let allCases: [FixtureCase] = ((try? ConformanceRunner.discover([root])) ?? []).map(FixtureCase.init)

    /// The forward case folders (every source but `gradients/`).
    static let cases: [FixtureCase] = allCases.filter { !isGradientCase($0.folder) }

    /// The backward (gradient) case folders, `gradients/`.
    static let gradientCases: [FixtureCase] = allCases.filter { isGradientCase($0.folder) }

    static func isGradientCase(_ folder: URL) -> Bool {
        folder.deletingLastPathComponent().lastPathComponent == "gradients"
    }

    /// The number of `case.json` files under the fixtures, counted independently of the runner.
    static func manifestCount() -> Int {
        let paths = (try? FileManager.default.subpathsOfDirectory(atPath: root.path)) ?? []
        return paths.filter { ($0 as NSString).lastPathComponent == ConformanceCase.manifestName }.count
    }
}

@Suite("Conformance fixtures")
struct ConformanceFixtureTests {
    @Test func discoversEveryFixtureCase() throws {
        let folders = try ConformanceRunner.discover([Fixtures.root])
        // 73 onnx-node + 206 onnxruntime-random + 37 pad forward cases and 148 gradient cases (conformance README).
        #expect(folders.count >= 279 + 37 + 148)
        #expect(folders.filter { $0.path.contains("/pad/") }.count >= 37)
        #expect(folders.count == Fixtures.manifestCount())
        #expect(folders.filter { $0.path.contains("/onnx-node/") }.count >= 73)
        #expect(folders.filter(Fixtures.isGradientCase).count >= 148)
        #expect(Fixtures.cases.count + Fixtures.gradientCases.count == folders.count)
        #expect(Set(folders).count == folders.count)
    }

    /// Every registered backend runs every gradient case: a new backend is conformance-tested by registering it.
    @Test("Gradient case passes on every registered backend", arguments: Fixtures.gradientCases, allBackends)
    func gradientPassesOnEveryBackend(_ fixture: FixtureCase, backend: String) {
        let result = ConformanceRunner.run(caseFolder: fixture.folder, backend: .named(backend))
        #expect(result.mode == .backward)
        #expect(result.passed, "\(result.message ?? "") (max abs \(result.maxAbsError ?? .nan), max rel \(result.maxRelError ?? .nan))")
        #expect(!result.inputGrads.isEmpty, "no input gradient was compared")
        #expect(!result.outputs.isEmpty, "the forward outputs were not compared")
    }

    /// Every gradient case lists X's gradient, Conv / ConvTranspose also W's (and B's when there is a bias).
    @Test func gradientCasesCoverEveryDifferentiableInput() throws {
        var ops: Set<String> = []
        for fixture in Fixtures.gradientCases {
            let testCase = try ConformanceCase.load(from: fixture.folder)
            ops.insert(testCase.op)
            let result = ConformanceRunner.run(caseFolder: fixture.folder, backend: "reference")
            let slots = result.inputGrads.map(\.slot)
            if testCase.op == "Conv" || testCase.op == "ConvTranspose" {
                #expect(slots.starts(with: [0, 1]), "\(testCase.name): \(slots)")
                #expect(slots.contains(2) == (testCase.inputs.count > 2 && testCase.inputs[2] != nil), "\(testCase.name)")
            } else {
                #expect(slots == [0], "\(testCase.name): \(slots)")
            }
        }
        #expect(ops == ["AveragePool", "Conv", "ConvTranspose", "DepthToSpace", "GlobalAveragePool", "GlobalLpPool",
                        "GlobalMaxPool", "LpPool", "MaxPool", "MaxUnpool", "Resize", "SpaceToDepth"])
    }

    /// Every registered backend runs every forward case: a new backend is conformance-tested by registering it.
    @Test("Case passes on every registered backend", arguments: Fixtures.cases, allBackends)
    func passesOnEveryBackend(_ fixture: FixtureCase, backend: String) {
        let result = ConformanceRunner.run(caseFolder: fixture.folder, backend: .named(backend))
        if fixture.folder.lastPathComponent == "test_maxunpool_export_with_output_shape" {
            // Disputed: its expected output is the ONNX reference evaluator's reading; CNNKit takes onnxruntime's.
            #expect(result.disputedMismatch && !result.passed)
            return
        }
        #expect(result.passed, "\(result.message ?? "") (max abs \(result.maxAbsError ?? .nan), max rel \(result.maxRelError ?? .nan))")
        // An expect_error case passes by throwing a CNNKitError; it has no outputs.
        let expectsError = (try? ConformanceCase.load(from: fixture.folder))?.expectError ?? false
        #expect(expectsError || !result.outputs.isEmpty, "no output was compared")
    }

    @Test func upsampleNearestMapsToAsymmetricFloor() throws {
        let folder = Fixtures.root.appendingPathComponent("onnx-node/test_upsample_nearest")
        let testCase = try ConformanceCase.load(from: folder)
        let mapped = try ONNXMapping.map(
            op: testCase.op, opset: testCase.opset, attributes: testCase.attributes,
            inputs: try testCase.loadInputs(from: folder))
        guard case .resize(let descriptor) = mapped else {
            Issue.record("Upsample mapped to \(mapped.name)")
            return
        }
        #expect(descriptor.coordinateTransformation == .asymmetric)
        #expect(descriptor.nearestMode == .floor)
        #expect(descriptor.target == .scales([1, 1, 2, 3]))
    }

    /// The disputed MaxUnpool case: indices read as flat positions in the requested 5×5 output (onnxruntime).
    @Test(arguments: allBackends)
    func maxUnpoolWithOutputShapeTakesOnnxruntimesReading(backend: String) throws {
        let folder = Fixtures.root.appendingPathComponent("onnx-node/test_maxunpool_export_with_output_shape")
        let testCase = try ConformanceCase.load(from: folder)
        let outputs = try ONNXMapping.run(testCase, inputs: try testCase.loadInputs(from: folder), backend: .named(backend))
        guard case .float32(let y) = outputs.first else {
            Issue.record("no float output")
            return
        }
        var expected = [Float](repeating: 0, count: 25)
        for (index, value) in zip([5, 7, 13, 15], [Float(5), 6, 7, 8]) { expected[index] = value }
        #expect(y.shape == [1, 1, 5, 5])
        #expect(y.scalars == expected)
    }

    /// With that reading MaxPool → MaxUnpool(outputShape: the pooled input's shape) round-trips on odd sizes: every
    /// window's maximum returns to where it was, everything else is 0.
    @Test(arguments: allBackends)
    func maxPoolThenUnpoolRoundTripsOnOddSizes(backend: String) throws {
        let x = try normalTensor([2, 3, 5, 7], seed: 3)
        let (pooled, indices) = try poolingWithIndices(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2]), backend: .named(backend))
        let y = try maxUnpool(pooled, indices: indices, MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2], outputShape: [5, 7]),
                              backend: .named(backend))
        var expected = [Float](repeating: 0, count: x.count)
        for index in indices.scalars { expected[Int(index)] = x.scalars[Int(index)] }
        #expect(y.shape == x.shape)
        #expect(y.scalars == expected)
    }

    @Test func flagsAreReadFromTheManifest() throws {
        let disputed = try ConformanceCase.load(
            from: Fixtures.root.appendingPathComponent("onnx-node/test_maxunpool_export_with_output_shape"))
        #expect(disputed.flags == .disputed)
        #expect(disputed.disputed?.noteText.contains("onnxruntime") == true)
        let defined = try ConformanceCase.load(
            from: Fixtures.root.appendingPathComponent("onnxruntime-random/maxpool_special_013_nan_2d"))
        #expect(defined.flags == .implementationDefined)
        let plain = try ConformanceCase.load(from: Fixtures.root.appendingPathComponent("onnx-node/test_col2im"))
        #expect(plain.flags.isEmpty)
    }
}

// MARK: - Comparison rule

@Suite("Conformance comparison")
struct ConformanceComparisonTests {
    static let standard = ConformanceCase.Tolerance.standard
    /// Exactly representable tolerances, so that the edge of `atol + rtol·|e|` is exact: bound at e = 2 is 1.25.
    static let exact = ConformanceCase.Tolerance(atol: 0.25, rtol: 0.5)

    func compare(_ actual: [Float], _ expected: [Float], _ tolerance: ConformanceCase.Tolerance = standard) throws -> OutputComparison {
        OutputComparison.compare(
            try Tensor(shape: [actual.count], scalars: actual), try Tensor(shape: [expected.count], scalars: expected),
            tolerance: tolerance)
    }

    @Test func nanMatchesNaNOnly() throws {
        #expect(try compare([.nan], [.nan]).passed)
        #expect(try compare([-.nan], [.nan]).passed)
        #expect(try !compare([1], [.nan]).passed)
        #expect(try !compare([.nan], [1]).passed)
        #expect(try !compare([.infinity], [.nan]).passed)
        let mixed = try compare([.nan, 0], [0, 0], ConformanceCase.Tolerance(atol: 1e30, rtol: 1e30))
        #expect(!mixed.passed)
        #expect(mixed.mismatchCount == 1)
        #expect(mixed.maxAbsError == .infinity)
    }

    @Test func infinitiesMustMatchExactly() throws {
        let loose = ConformanceCase.Tolerance(atol: 1e30, rtol: 1e30)
        #expect(try compare([.infinity, -.infinity], [.infinity, -.infinity]).passed)
        #expect(try compare([.infinity, -.infinity], [.infinity, -.infinity]).maxAbsError == 0)
        #expect(try !compare([-.infinity], [.infinity], loose).passed)
        #expect(try !compare([.greatestFiniteMagnitude], [.infinity], loose).passed)
        #expect(try !compare([.infinity], [.greatestFiniteMagnitude], loose).passed)
        #expect(try !compare([-.infinity], [-1], loose).passed)
    }

    @Test func toleranceEdgeIsInclusive() throws {
        // |a − 2| <= 0.25 + 0.5·2 = 1.25
        #expect(try compare([3.25], [2], Self.exact).passed)
        #expect(try compare([0.75], [2], Self.exact).passed)
        #expect(try !compare([Float(3.25).nextUp], [2], Self.exact).passed)
        #expect(try !compare([Float(0.75).nextDown], [2], Self.exact).passed)
        // At e = 0 only atol applies.
        #expect(try compare([0.25], [0], Self.exact).passed)
        #expect(try !compare([Float(0.25).nextUp], [0], Self.exact).passed)
        // The standard tolerance: 1e-4 + 1e-4·|e|.
        #expect(try compare([1.0001], [1]).passed)
        #expect(try !compare([1.0003], [1]).passed)
    }

    @Test func maxErrorsSkipZeroAndNonFiniteExpectedForRelative() throws {
        let result = try compare([0.5, 2.5, 4, .infinity], [0, 2, 4, .infinity], ConformanceCase.Tolerance(atol: 1, rtol: 0))
        #expect(result.passed)
        #expect(result.maxAbsError == 0.5)
        #expect(result.maxRelError == 0.25)  // 0.5 / 2; the element with expected 0 has no relative error
        #expect(result.elementCount == 4)
    }

    @Test func shapesMustMatch() throws {
        let result = OutputComparison.compare(
            try Tensor(shape: [1, 4], repeating: 1), try Tensor(shape: [2, 2], repeating: 1), tolerance: Self.standard)
        #expect(!result.passed)
        #expect(result.message?.contains("shape [1, 4], expected [2, 2]") == true)
        let mixed = OutputComparison.compare(
            CaseTensor.int64(try IndexTensor(shape: [1], scalars: [1])), .float32(try Tensor(shape: [1], scalars: [1])),
            tolerance: Self.standard)
        #expect(!mixed.passed)
    }

    @Test func int64IsExact() throws {
        let equal = OutputComparison.compare(
            try IndexTensor(shape: [3], scalars: [0, 5, 7]), try IndexTensor(shape: [3], scalars: [0, 5, 7]))
        #expect(equal.passed)
        let off = OutputComparison.compare(
            try IndexTensor(shape: [3], scalars: [0, 6, 7]), try IndexTensor(shape: [3], scalars: [0, 5, 7]))
        #expect(!off.passed)
        #expect(off.mismatchCount == 1)
        #expect(off.maxAbsError == 1)
    }

    @Test func mismatchMessageNamesTheFirstElement() throws {
        let expected = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let actual = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 5])
        let result = OutputComparison.compare(actual, expected, tolerance: Self.standard, slot: 0)
        #expect(!result.passed)
        #expect(result.message?.contains("1 of 4 elements differ; first at [0, 0, 1, 1]: got 5.0, expected 4.0") == true)
    }
}

// MARK: - Runner on cases built in a temporary folder

/// A scratch folder that is removed when the test ends.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Creates `name/` holding `case.json` with `manifest` and the given `.npy` files; returns the folder.
    @discardableResult
    func makeCase(_ name: String, manifest: String, tensors: [String: CaseTensor] = [:]) throws -> URL {
        let folder = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(manifest.utf8).write(to: folder.appendingPathComponent(ConformanceCase.manifestName))
        for (file, tensor) in tensors {
            switch tensor {
            case .float32(let t): try t.writeNPY(to: folder.appendingPathComponent(file))
            case .int64(let t): try t.writeNPY(to: folder.appendingPathComponent(file))
            }
        }
        return folder
    }
}

/// A 1×1 convolution case: X [1, 2, 2, 2], W [1, 2, 1, 1] = [1, 1] (sums the two channels), Y [1, 1, 2, 2].
enum ConvCase {
    static let x = try! Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, 10, 20, 30, 40])
    static let w = try! Tensor(shape: [1, 2, 1, 1], scalars: [1, 1])
    static let y = try! Tensor(shape: [1, 1, 2, 2], scalars: [11, 22, 33, 44])

    static func manifest(
        op: String = "Conv", attributes: String = "{}", weightShape: [Int] = [1, 2, 1, 1], outputs: String? = nil,
        expectError: Bool = false
    ) -> String {
        let defaultOutputs = #"[{"name": "Y", "file": "output_0.npy", "dtype": "float32", "shape": [1, 1, 2, 2]}]"#
        return """
            {"name": "conv_case", "source": "test", "op": "\(op)", "domain": "", "opset": 22,
             "attributes": \(attributes),
             "inputs": [{"name": "X", "file": "input_0.npy", "dtype": "float32", "shape": [1, 2, 2, 2]},
                        {"name": "W", "file": "input_1.npy", "dtype": "float32", "shape": \(weightShape)}],
             "outputs": \(outputs ?? (expectError ? "[]" : defaultOutputs)),
             \(expectError ? #""expect_error": true,"# : "")
             "tolerance": {"atol": 0.0001, "rtol": 0.0001}}
            """
    }

    static func tensors(weight: Tensor = w, output: Tensor? = y) -> [String: CaseTensor] {
        var files: [String: CaseTensor] = ["input_0.npy": .float32(x), "input_1.npy": .float32(weight)]
        if let output { files["output_0.npy"] = .float32(output) }
        return files
    }
}

@Suite("Conformance runner")
struct ConformanceRunnerTests {
    @Test func correctCasePasses() throws {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase("ok", manifest: ConvCase.manifest(), tensors: ConvCase.tensors())
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(result.passed, "\(result.message ?? "")")
        #expect(result.name == "conv_case")
        #expect(result.maxAbsError == 0)
        #expect(result.outputs.count == 1)
    }

    @Test func wrongExpectedOutputFailsWithErrors() throws {
        let temp = try TemporaryFolder()
        let wrong = try Tensor(shape: [1, 1, 2, 2], scalars: [11, 22, 33, 45])
        let folder = try temp.makeCase("wrong", manifest: ConvCase.manifest(), tensors: ConvCase.tensors(output: wrong))
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(!result.passed)
        #expect(result.maxAbsError == 1)
        #expect(result.maxRelError == 1.0 / 45)
        #expect(result.message?.contains("first at [0, 0, 1, 1]") == true)
    }

    @Test func expectErrorPassesWhenCNNKitThrows() throws {
        let temp = try TemporaryFolder()
        // W has 3 input channels for an X with 2: ConvolutionProblem rejects it.
        let badWeight = try Tensor(shape: [1, 3, 1, 1], repeating: 1)
        let folder = try temp.makeCase(
            "expect_error", manifest: ConvCase.manifest(weightShape: [1, 3, 1, 1], expectError: true),
            tensors: ConvCase.tensors(weight: badWeight, output: nil))
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(result.passed, "\(result.message ?? "")")
        #expect(result.message?.contains("weight.shape") == true)
    }

    @Test func expectErrorFailsWhenTheOperatorSucceeds() throws {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase(
            "expect_error_ok", manifest: ConvCase.manifest(expectError: true), tensors: ConvCase.tensors(output: nil))
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(!result.passed)
        #expect(result.message?.contains("expected a CNNKitError") == true)
    }

    @Test func expectErrorFailsWhenTheNodeCannotBeMapped() throws {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase(
            "expect_error_unknown_op", manifest: ConvCase.manifest(op: "Gemm", expectError: true),
            tensors: ConvCase.tensors(output: nil))
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(!result.passed)
        #expect(result.message?.contains("operator Gemm") == true)
    }

    @Test func cnnkitErrorFailsACaseThatExpectsOutputs() throws {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase(
            "stride0", manifest: ConvCase.manifest(attributes: #"{"strides": [0, 1]}"#), tensors: ConvCase.tensors())
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(!result.passed)
        #expect(result.message?.hasPrefix("CNNKitError: ") == true)
        #expect(result.message?.contains("strides") == true)
    }

    @Test func unknownBackendFailsEveryCase() throws {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase("ok", manifest: ConvCase.manifest(), tensors: ConvCase.tensors())
        let result = ConformanceRunner.run(caseFolder: folder, backend: "no-such-backend")
        #expect(!result.passed)
        #expect(result.message?.contains("no-such-backend") == true)
    }

    /// Manifests and file sets the runner must report as failed, never crash on.
    static let malformed: [(name: String, manifest: String, withFiles: Bool, expectedText: String)] = [
        ("not_json", "{ this is not json", true, "malformed case"),
        ("empty_file", "", true, "malformed case"),
        ("json_array", "[1, 2, 3]", true, "malformed case"),
        ("missing_op", #"{"name": "x", "opset": 22, "inputs": [], "outputs": []}"#, true, "missing field .op"),
        ("opset_is_text", #"{"name": "x", "op": "Conv", "opset": "22", "inputs": []}"#, true, "opset"),
        ("unknown_dtype", ConvCase.manifest().replacingOccurrences(of: #""dtype": "float32", "shape": [1, 2, 2, 2]"#,
                                                                    with: #""dtype": "float16", "shape": [1, 2, 2, 2]"#), true, "float16"),
        ("missing_files", ConvCase.manifest(), false, "input_0.npy"),
        ("shape_disagrees", ConvCase.manifest().replacingOccurrences(of: #""shape": [1, 2, 2, 2]"#, with: #""shape": [1, 2, 4]"#),
         true, "the manifest says [1, 2, 4]"),
        ("dtype_disagrees", ConvCase.manifest().replacingOccurrences(
            of: #""dtype": "float32", "shape": [1, 2, 1, 1]"#, with: #""dtype": "int64", "shape": [1, 2, 1, 1]"#), true, "input_1.npy"),
        ("no_outputs", ConvCase.manifest(outputs: "[]"), true, "no outputs"),
        ("unknown_op", ConvCase.manifest(op: "Gemm"), true, "operator Gemm"),
        ("unknown_attribute", ConvCase.manifest(attributes: #"{"alpha": 1.0}"#), true, "unknown attribute alpha"),
        ("bad_auto_pad", ConvCase.manifest(attributes: #"{"auto_pad": "SAME"}"#), true, "auto_pad"),
        ("mistyped_attribute", ConvCase.manifest(attributes: #"{"strides": 2}"#), true, "strides"),
    ]

    @Test(arguments: malformed.indices)
    func malformedCaseFailsWithoutCrashing(_ index: Int) throws {
        let (name, manifest, withFiles, expectedText) = Self.malformed[index]
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase(name, manifest: manifest, tensors: withFiles ? ConvCase.tensors() : [:])
        let result = ConformanceRunner.run(caseFolder: folder, backend: "reference")
        #expect(!result.passed, "\(name)")
        #expect(result.message?.contains(expectedText) == true, "\(name): \(result.message ?? "no message")")
    }

    @Test func missingFolderFails() {
        let result = ConformanceRunner.run(caseFolder: URL(fileURLWithPath: "/nonexistent/case"), backend: "reference")
        #expect(!result.passed)
        #expect(result.name == "case")
        #expect(result.message?.contains("cannot read") == true)
    }

    @Test func discoverFindsNestedCasesAndRootCases() throws {
        let temp = try TemporaryFolder()
        let a = try temp.makeCase("set1/a", manifest: "{}")
        let b = try temp.makeCase("set1/deeper/b", manifest: "{}")
        let c = try temp.makeCase("set2/c", manifest: "{}")
        try FileManager.default.createDirectory(at: temp.url.appendingPathComponent("set2/empty"), withIntermediateDirectories: true)
        let found = try ConformanceRunner.discover([temp.url.appendingPathComponent("set1"), temp.url, c])
        #expect(found.map(\.lastPathComponent) == ["a", "b", "c"])
        #expect(Set(found.map(\.standardizedFileURL.path)) == Set([a, b, c].map { $0.resolvingSymlinksInPath().standardizedFileURL.path }))
        #expect(throws: ConformanceError.self) { try ConformanceRunner.discover([temp.url.appendingPathComponent("missing")]) }
    }
}

// MARK: - Mapping

@Suite("ONNX mapping")
struct ONNXMappingTests {
    static let x4 = CaseTensor.float32(try! Tensor(shape: [1, 4, 2, 2], repeating: 1))

    @Test func resizeDefaultsAndEmptyScalesMeanSizes() throws {
        let emptyScales = CaseTensor.float32(try Tensor(shape: [0], scalars: []))
        let sizes = CaseTensor.int64(try IndexTensor(shape: [4], scalars: [1, 4, 3, 3]))
        let mapped = try ONNXMapping.map(op: "Resize", opset: 19, attributes: [:], inputs: [Self.x4, nil, emptyScales, sizes])
        #expect(mapped == .resize(ResizeDescriptor(target: .sizes([1, 4, 3, 3]))))
        guard case .resize(let d) = mapped else { return }
        #expect(d.mode == .nearest && d.coordinateTransformation == .halfPixel && d.nearestMode == .roundPreferFloor)
        #expect(d.cubicCoefficientA == -0.75 && d.keepAspectRatioPolicy == .stretch && !d.antialias && !d.excludeOutside)
    }

    @Test func resizeReadsEveryAttribute() throws {
        let scales = CaseTensor.float32(try Tensor(shape: [2], scalars: [0.5, 1.5]))
        let roi = CaseTensor.float32(try Tensor(shape: [4], scalars: [0, 0.1, 1, 0.9]))
        let attributes: [String: JSONValue] = [
            "mode": .string("cubic"), "coordinate_transformation_mode": .string("tf_crop_and_resize"),
            "cubic_coeff_a": .number(-0.5), "exclude_outside": .int(1), "antialias": .int(1),
            "extrapolation_value": .number(0.10000000149011612), "axes": .array([.int(3), .int(2)]),
            "nearest_mode": .string("ceil"), "keep_aspect_ratio_policy": .string("stretch"),
        ]
        guard case .resize(let d) = try ONNXMapping.map(op: "Resize", opset: 19, attributes: attributes, inputs: [Self.x4, roi, scales]) else {
            Issue.record("not a resize")
            return
        }
        #expect(d.target == .scales([0.5, 1.5]))
        #expect(d.mode == .cubic && d.coordinateTransformation == .tfCropAndResize && d.nearestMode == .ceil)
        #expect(d.cubicCoefficientA == -0.5 && d.excludeOutside && d.antialias)
        #expect(d.extrapolationValue == Float(0.1))
        #expect(d.axes == [3, 2])
        #expect(d.roi == [0, 0.1, 1, 0.9])
    }

    /// Invalid operator input is rejected with a CNNKitError, so an `expect_error` case accepts it.
    @Test func resizeWithoutScalesOrSizesIsInvalid() {
        #expect(throws: CNNKitError.self) {
            try ONNXMapping.map(op: "Resize", opset: 19, attributes: [:], inputs: [Self.x4])
        }
        #expect(throws: CNNKitError.self) {
            try ONNXMapping.map(op: "Resize", opset: 19, attributes: ["mode": .string("bicubic")],
                                inputs: [Self.x4, nil, .float32(try Tensor(shape: [4], repeating: 2))])
        }
    }

    @Test func poolingAttributesAndDefaults() throws {
        let kernel: [String: JSONValue] = ["kernel_shape": .array([.int(2), .int(2)])]
        var attributes = kernel
        attributes["storage_order"] = .int(1)
        attributes["ceil_mode"] = .int(1)
        let max = try ONNXMapping.map(op: "MaxPool", opset: 22, attributes: attributes, inputs: [Self.x4], outputCount: 2)
        var expected = PoolingDescriptor(kind: .max, kernelShape: [2, 2], ceilMode: true, storageOrder: .columnMajor)
        #expect(max == .pooling(expected, indices: true))
        let lp = try ONNXMapping.map(op: "LpPool", opset: 22, attributes: kernel, inputs: [Self.x4])
        expected = PoolingDescriptor(kind: .lp(p: 2), kernelShape: [2, 2])
        #expect(lp == .pooling(expected, indices: false))
        attributes = kernel
        attributes["count_include_pad"] = .int(1)
        let average = try ONNXMapping.map(op: "AveragePool", opset: 22, attributes: attributes, inputs: [Self.x4])
        #expect(average == .pooling(PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [2, 2]), indices: false))
        let global = try ONNXMapping.map(op: "GlobalLpPool", opset: 2, attributes: ["p": .int(3)], inputs: [Self.x4])
        #expect(global == .pooling(.global(.lp(p: 3)), indices: false))
        #expect(throws: CNNKitError.self) {
            try ONNXMapping.map(op: "MaxPool", opset: 22, attributes: [:], inputs: [Self.x4])  // kernel_shape is required
        }
        #expect(throws: CNNKitError.self) {
            try ONNXMapping.map(op: "AveragePool", opset: 22, attributes: ["kernel_shape": .array([.int(2), .int(2)]),
                                                                          "count_include_pad": .int(2)], inputs: [Self.x4])
        }
    }

    @Test func pixelShuffleModeByOpset() throws {
        let d2s = try ONNXMapping.map(op: "DepthToSpace", opset: 13, attributes: ["blocksize": .int(2)], inputs: [Self.x4])
        #expect(d2s == .pixelShuffle(PixelShuffleDescriptor(.depthToSpace, blockSize: 2, mode: .dcr)))
        let crd = try ONNXMapping.map(
            op: "SpaceToDepth", opset: 28, attributes: ["blocksize": .int(2), "mode": .string("CRD")], inputs: [Self.x4])
        #expect(crd == .pixelShuffle(PixelShuffleDescriptor(.spaceToDepth, blockSize: 2, mode: .crd)))
        #expect(throws: ConformanceError.self) {  // SpaceToDepth has no mode before opset 28
            try ONNXMapping.map(op: "SpaceToDepth", opset: 13, attributes: ["blocksize": .int(2), "mode": .string("CRD")], inputs: [Self.x4])
        }
    }

    @Test func shapeInputsAreRead() throws {
        let columns = CaseTensor.float32(try Tensor(shape: [1, 4, 4], repeating: 1))
        let image = CaseTensor.int64(try IndexTensor(shape: [2], scalars: [3, 3]))
        let block = CaseTensor.int64(try IndexTensor(shape: [2], scalars: [2, 2]))
        let col2im = try ONNXMapping.map(op: "Col2Im", opset: 18, attributes: [:], inputs: [columns, image, block])
        #expect(col2im == .col2im(Col2ImDescriptor(imageShape: [3, 3], blockShape: [2, 2])))
        let indices = CaseTensor.int64(try IndexTensor(shape: [1, 4, 2, 2], repeating: 0))
        let shape = CaseTensor.int64(try IndexTensor(shape: [4], scalars: [1, 4, 5, 5]))
        let unpool = try ONNXMapping.map(
            op: "MaxUnpool", opset: 22, attributes: ["kernel_shape": .array([.int(2), .int(2)])], inputs: [Self.x4, indices, shape])
        #expect(unpool == .maxUnpool(MaxUnpoolDescriptor(kernelShape: [2, 2], outputShape: [1, 4, 5, 5])))
        #expect(throws: ConformanceError.self) {  // I must be int64
            try ONNXMapping.map(op: "MaxUnpool", opset: 22, attributes: ["kernel_shape": .array([.int(2), .int(2)])], inputs: [Self.x4, Self.x4])
        }
    }

    @Test func jsonNumbersDecode() throws {
        let text = #"{"i": 3, "f": 0.10000000149011612, "l": [1, -2], "s": "x", "n": null, "b": true, "o": {"k": 2.5}}"#
        let values = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        #expect(values["i"] == .int(3))
        #expect(values["f"]?.floatValue == Float(0.1))
        #expect(values["f"]?.intValue == nil)
        #expect(values["l"] == .array([.int(1), .int(-2)]))
        #expect(values["s"] == .string("x"))
        #expect(values["n"] == .null)
        #expect(values["b"] == .bool(true))
        #expect(values["o"] == .object(["k": .number(2.5)]))
    }
}

// MARK: - Backward cases built in a temporary folder

/// A backward 1×1 convolution case: X [1, 2, 2, 2], W [1, 2, 1, 1] = [1, 2], Y = x₀ + 2·x₁, dY = [1, 2, 3, 4];
/// dX = [dY, 2·dY], dW = [Σ dY·x₀, Σ dY·x₁] = [30, 300].
enum BackwardConvCase {
    static let x = try! Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, 10, 20, 30, 40])
    static let w = try! Tensor(shape: [1, 2, 1, 1], scalars: [1, 2])
    static let y = try! Tensor(shape: [1, 1, 2, 2], scalars: [21, 42, 63, 84])
    static let dy = try! Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
    static let dx = try! Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, 2, 4, 6, 8])
    static let dw = try! Tensor(shape: [1, 2, 1, 1], scalars: [30, 300])

    static func entry(_ name: String, _ file: String, _ shape: [Int], dtype: String = "float32") -> String {
        #"{"name": "\#(name)", "file": "\#(file)", "dtype": "\#(dtype)", "shape": \#(shape)}"#
    }

    static func manifest(
        mode: String = #""backward""#, outputs: String? = nil, outputGrads: String? = nil, inputGrads: String? = nil,
        extra: String = ""
    ) -> String {
        """
        {"name": "conv_backward", "source": "test", "mode": \(mode), "op": "Conv", "domain": "", "opset": 22, "attributes": {},
         "inputs": [\(entry("X", "input_0.npy", [1, 2, 2, 2])), \(entry("W", "input_1.npy", [1, 2, 1, 1])), null],
         "outputs": \(outputs ?? "[" + entry("Y", "output_0.npy", [1, 1, 2, 2]) + "]"),
         "output_grads": \(outputGrads ?? "[" + entry("Y_grad", "output_grad_0.npy", [1, 1, 2, 2]) + "]"),
         "input_grads": \(inputGrads ?? "[" + entry("X_grad", "input_grad_0.npy", [1, 2, 2, 2]) + ", " + entry("W_grad", "input_grad_1.npy", [1, 2, 1, 1]) + ", null]"),
         \(extra)
         "tolerance": {"atol": 0.0001, "rtol": 0.0001}}
        """
    }

    static func tensors(dx: Tensor = dx, dw: Tensor = dw, y: Tensor = y) -> [String: CaseTensor] {
        ["input_0.npy": .float32(x), "input_1.npy": .float32(w), "output_0.npy": .float32(y),
         "output_grad_0.npy": .float32(dy), "input_grad_0.npy": .float32(dx), "input_grad_1.npy": .float32(dw)]
    }
}

@Suite("Conformance runner, backward cases")
struct BackwardRunnerTests {
    func run(_ manifest: String, _ tensors: [String: CaseTensor] = BackwardConvCase.tensors(), backend: BackendSelection = "reference") throws -> CaseResult {
        let temp = try TemporaryFolder()
        let folder = try temp.makeCase("case", manifest: manifest, tensors: tensors)
        return ConformanceRunner.run(caseFolder: folder, backend: backend)
    }

    @Test func correctBackwardCasePasses() throws {
        let result = try run(BackwardConvCase.manifest())
        #expect(result.passed, "\(result.message ?? "")")
        #expect(result.mode == .backward)
        #expect(result.inputGrads.map(\.slot) == [0, 1])
        #expect(result.outputs.count == 1)
        #expect(result.maxAbsError == 0)
    }

    @Test func backwardCaseWithoutForwardOutputsPasses() throws {
        let result = try run(BackwardConvCase.manifest(outputs: "[]"))
        #expect(result.passed, "\(result.message ?? "")")
        #expect(result.outputs.isEmpty)
    }

    @Test func wrongGradientFails() throws {
        var dw = BackwardConvCase.dw
        dw.scalars[1] = 301
        let result = try run(BackwardConvCase.manifest(), BackwardConvCase.tensors(dw: dw))
        #expect(!result.passed)
        #expect(result.maxAbsError == 1)
        #expect(result.message?.contains("input_grad 1 (W_grad): 1 of 2 elements differ") == true, "\(result.message ?? "")")
    }

    @Test func wrongForwardOutputFails() throws {
        var y = BackwardConvCase.y
        y.scalars[0] = 20
        let result = try run(BackwardConvCase.manifest(), BackwardConvCase.tensors(y: y))
        #expect(!result.passed)
        #expect(result.message?.contains("output 0: 1 of 4 elements differ") == true, "\(result.message ?? "")")
    }

    /// The backward pass runs on any backend name, and an unknown one fails the case.
    @Test(arguments: BackendRegistry.shared.names)
    func runsOnEveryBackend(_ backend: String) throws {
        let result = try run(BackwardConvCase.manifest(), backend: .named(backend))
        #expect(result.passed, "\(backend): \(result.message ?? "")")
        #expect(try !run(BackwardConvCase.manifest(), backend: "no-such-backend").passed)
    }

    /// Cases the runner cannot check fail, with a message saying why.
    static let uncheckable: [(name: String, manifest: String, expectedText: String)] = [
        ("unknown mode", BackwardConvCase.manifest(mode: #""double_backward""#), "unknown mode"),
        ("unknown field", BackwardConvCase.manifest(extra: #""loss": "mean","#), "unknown field loss"),
        ("gradients in a forward case", BackwardConvCase.manifest(mode: "null"), "gradients listed in a forward case"),
        ("no input gradients", BackwardConvCase.manifest(inputGrads: "[null, null, null]"), "no input_grads"),
        ("gradient of an absent bias", BackwardConvCase.manifest(inputGrads: "[" + BackwardConvCase.entry("X_grad", "input_grad_0.npy", [1, 2, 2, 2])
            + ", null, " + BackwardConvCase.entry("B_grad", "input_grad_1.npy", [1, 2, 1, 1]) + "]"), "cannot compute input_grads[2]: input 2 is absent"),
        ("more input gradients than inputs", BackwardConvCase.manifest(inputGrads: "[" + BackwardConvCase.entry("X_grad", "input_grad_0.npy", [1, 2, 2, 2])
            + ", null, null, null]"), "input_grads has 4 entries for 3 input slots"),
        ("gradient arriving at a second output", BackwardConvCase.manifest(outputGrads: "[" + BackwardConvCase.entry("Y_grad", "output_grad_0.npy", [1, 1, 2, 2])
            + ", " + BackwardConvCase.entry("Z_grad", "output_grad_0.npy", [1, 1, 2, 2]) + "]"), "only output 0 (Y) carries a gradient"),
        ("int64 gradient", BackwardConvCase.manifest(inputGrads: "[" + BackwardConvCase.entry("X_grad", "input_grad_0.npy", [1, 2, 2, 2], dtype: "int64")
            + ", null, null]"), "input_grad_0.npy"),
        ("missing gradient file", BackwardConvCase.manifest(inputGrads: "[" + BackwardConvCase.entry("X_grad", "missing.npy", [1, 2, 2, 2])
            + ", null, null]"), "missing.npy"),
        ("output gradient of the wrong shape", BackwardConvCase.manifest(outputGrads: "[" + BackwardConvCase.entry("Y_grad", "input_grad_0.npy", [1, 2, 2, 2])
            + "]"), "outputGrad.shape"),
    ]

    @Test(arguments: uncheckable.indices)
    func uncheckableCaseFails(_ index: Int) throws {
        let (name, manifest, expectedText) = Self.uncheckable[index]
        let result = try run(manifest)
        #expect(!result.passed, "\(name)")
        #expect(result.message?.contains(expectedText) == true, "\(name): \(result.message ?? "no message")")
    }

    /// A gradient for a shape-like input (Resize `scales`) cannot be computed, so the case fails.
    @Test func gradientOfAShapeInputFails() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let scales = try Tensor(shape: [4], scalars: [1, 1, 2, 2])
        let dy = try Tensor(shape: [1, 1, 4, 4], repeating: 1)
        let manifest = """
            {"name": "resize_scales_grad", "mode": "backward", "op": "Resize", "opset": 19, "attributes": {},
             "inputs": [\(BackwardConvCase.entry("X", "input_0.npy", [1, 1, 2, 2])), null, \(BackwardConvCase.entry("scales", "input_2.npy", [4]))],
             "outputs": [],
             "output_grads": [\(BackwardConvCase.entry("Y_grad", "output_grad_0.npy", [1, 1, 4, 4]))],
             "input_grads": [\(BackwardConvCase.entry("X_grad", "input_grad_0.npy", [1, 1, 2, 2])), null, \(BackwardConvCase.entry("s_grad", "input_2.npy", [4]))],
             "tolerance": {"atol": 0.0001, "rtol": 0.0001}}
            """
        let result = try run(manifest, ["input_0.npy": .float32(x), "input_2.npy": .float32(scales),
                                        "output_grad_0.npy": .float32(dy), "input_grad_0.npy": .float32(try Tensor(shape: [1, 1, 2, 2], repeating: 4))])
        #expect(!result.passed)
        #expect(result.message?.contains("cannot compute input_grads[2]: input 2 is not differentiable") == true, "\(result.message ?? "")")
        // Without the scales gradient the same case passes (nearest ×2: each input element feeds 4 outputs).
        let plain = manifest.replacingOccurrences(of: ", null, " + BackwardConvCase.entry("s_grad", "input_2.npy", [4]) + "]", with: ", null, null]")
        let passed = try run(plain, ["input_0.npy": .float32(x), "input_2.npy": .float32(scales),
                                     "output_grad_0.npy": .float32(dy), "input_grad_0.npy": .float32(try Tensor(shape: [1, 1, 2, 2], repeating: 4))])
        #expect(passed.passed, "\(passed.message ?? "")")
    }
}
