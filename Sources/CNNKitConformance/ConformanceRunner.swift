import CNNKit
import Foundation

/// The outcome of running one conformance case.
public struct CaseResult: Sendable, Hashable {
    /// The case name from the manifest, or the folder name when the manifest could not be read.
    public var name: String
    /// The case folder.
    public var folder: URL
    /// The ONNX operator type, when the manifest could be read.
    public var op: String?
    /// Whether the case passed.
    public var passed: Bool
    /// Largest absolute error over the compared outputs (see ``OutputComparison``); `nil` when nothing was compared.
    public var maxAbsError: Double?
    /// Largest relative error over the compared outputs' finite non-zero expected elements; `nil` when nothing was
    /// compared.
    public var maxRelError: Double?
    /// Why the case failed: the error thrown, or the output mismatches joined with `; `. For a passing
    /// `expect_error` case, the text of the ``CNNKitError`` the operator threw. `nil` for other passing cases.
    public var message: String?
    /// `disputed` / `implementation_defined` marks of the manifest.
    public var flags: CaseFlags
    /// A forward case with a `disputed` note whose outputs differ from the expected ones: the expected output
    /// follows a reading of the operator CNNKit does not take (the note says which). Not passed, and reported apart
    /// from failures (`cnnkit conformance` prints `DISPUTED` and the note).
    public var disputedMismatch = false
    /// One comparison per expected output slot that was compared (for a backward case, its forward outputs).
    public var outputs: [OutputComparison]
    /// Whether the case checked outputs or gradients; `nil` when the manifest could not be read.
    public var mode: ConformanceCase.Mode?
    /// Backward cases: one comparison per `input_grads` entry, `slot` being the input slot. ``maxAbsError`` and
    /// ``maxRelError`` of a backward case are over these.
    public var inputGrads: [OutputComparison]

    /// Creates a result.
    public init(
        name: String, folder: URL, op: String? = nil, passed: Bool, maxAbsError: Double? = nil,
        maxRelError: Double? = nil, message: String? = nil, flags: CaseFlags = [], outputs: [OutputComparison] = [],
        mode: ConformanceCase.Mode? = nil, inputGrads: [OutputComparison] = []
    ) {
        self.name = name
        self.folder = folder
        self.op = op
        self.passed = passed
        self.maxAbsError = maxAbsError
        self.maxRelError = maxRelError
        self.message = message
        self.flags = flags
        self.outputs = outputs
        self.mode = mode
        self.inputGrads = inputGrads
    }
}

/// Finds conformance case folders and runs them against a CNNKit backend.
///
/// A case folder is any directory holding a `case.json` manifest (format: the conformance README). Running a case
/// loads its inputs, maps the ONNX node onto a CNNKit call (``ONNXMapping``), runs it on the chosen backend and
/// compares every expected output (``OutputComparison``). A backward case (`"mode": "backward"`) runs the node's
/// backward pass through CNNKit's backward plans (``ONNXMapping/runBackward(_:inputs:outputGrads:backend:)``) and
/// compares every expected input gradient. Nothing about a case — bad JSON, a missing file, an
/// unknown operator, an error thrown by CNNKit — stops the run: each becomes a failed ``CaseResult`` with a message.
public enum ConformanceRunner {
    /// Every case folder under `roots`, recursively (a root that holds `case.json` itself counts), sorted by path
    /// and without duplicates. Hidden files and folders are skipped.
    /// - Throws: ``ConformanceError/notADirectory(_:)`` when a root does not exist or is not a directory.
    public static func discover(_ roots: [URL]) throws -> [URL] {
        let files = FileManager.default
        var found: [String: URL] = [:]
        for root in roots {
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConformanceError.notADirectory(root.path)
            }
            let base = root.standardizedFileURL.resolvingSymlinksInPath()
            func add(_ folder: URL) {
                let key = folder.standardizedFileURL.path
                if found[key] == nil { found[key] = folder.standardizedFileURL }
            }
            if isManifest(base.appendingPathComponent(ConformanceCase.manifestName)) { add(base) }
            guard let enumerator = files.enumerator(
                at: base, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else { continue }
            for case let url as URL in enumerator where url.lastPathComponent == ConformanceCase.manifestName {
                if isManifest(url) { add(url.deletingLastPathComponent()) }
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    private static func isManifest(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Runs the case in `caseFolder` on `backend` and compares its outputs.
    ///
    /// A case that expects outputs passes when the operator returns every expected output within tolerance. A case
    /// with `"expect_error": true` (and no outputs) passes only when the operator throws a ``CNNKitError``; it fails
    /// when the operator succeeds or when the harness cannot map the node. A malformed case fails.
    ///
    /// A backward case (`"mode": "backward"`) passes when every non-null `input_grads` entry is matched, within the
    /// case's tolerance, by the gradient CNNKit's backward plans compute from the inputs and `output_grads` (loss
    /// `L = Σ_K Σ dY_K·Y_K`), and its forward `outputs`, if listed, match by the forward rules (1e-4, 1e-3 for
    /// cubic Resize). It fails when it has no input gradient to compare, or asks for one the runner cannot compute
    /// (an absent or shape-like input, a gradient arriving at `Indices`): nothing is skipped silently.
    public static func run(caseFolder: URL, backend: BackendSelection = "reference") -> CaseResult {
        let testCase: ConformanceCase
        do {
            testCase = try ConformanceCase.load(from: caseFolder)
        } catch {
            return CaseResult(name: caseFolder.lastPathComponent, folder: caseFolder, passed: false, message: "\(error)")
        }
        if testCase.mode == .backward { return runBackward(testCase, caseFolder: caseFolder, backend: backend) }
        var result = CaseResult(
            name: testCase.name, folder: caseFolder, op: testCase.op, passed: false, flags: testCase.flags, mode: testCase.mode)
        func fail(_ message: String) -> CaseResult {
            result.message = message
            return result
        }

        // Load everything first, so that a malformed case never reaches the operator.
        let inputs: [CaseTensor?], expected: [CaseTensor?]
        do {
            if testCase.expectError {
                guard testCase.outputs.allSatisfy({ $0 == nil }) else {
                    return fail("malformed case: expect_error is true but outputs are listed")
                }
            } else if testCase.outputs.allSatisfy({ $0 == nil }) {
                return fail("malformed case: no outputs to compare (and expect_error is not true)")
            }
            inputs = try testCase.loadInputs(from: caseFolder)
            expected = try testCase.loadExpectedOutputs(from: caseFolder)
        } catch {
            return fail("\(error)")
        }

        let actual: [CaseTensor]
        do {
            actual = try ONNXMapping.run(testCase, inputs: inputs, backend: backend)
        } catch let error as CNNKitError {
            if testCase.expectError {
                result.passed = true
                result.message = "threw as expected: \(error)"
                return result
            }
            return fail("CNNKitError: \(error)")
        } catch {
            return fail("\(error)")
        }
        if testCase.expectError {
            let shapes = actual.map { "\($0.shape)" }.joined(separator: ", ")
            return fail("expected a CNNKitError, but the operator returned output\(actual.count == 1 ? "" : "s") of shape \(shapes)")
        }

        var problems: [String] = []
        for (slot, entry) in expected.enumerated() {
            guard let entry else { continue }
            guard slot < actual.count else {
                problems.append("output \(slot): not produced (the operator returned \(actual.count) output\(actual.count == 1 ? "" : "s"))")
                continue
            }
            let comparison = OutputComparison.compare(actual[slot], entry, tolerance: testCase.tolerance, slot: slot)
            result.outputs.append(comparison)
            if let message = comparison.message { problems.append(message) }
        }
        let absErrors = result.outputs.compactMap(\.maxAbsError), relErrors = result.outputs.compactMap(\.maxRelError)
        result.maxAbsError = absErrors.max()
        result.maxRelError = relErrors.max()
        result.passed = problems.isEmpty && result.outputs.allSatisfy(\.passed)
        result.message = problems.isEmpty ? nil : problems.joined(separator: "; ")
        if !result.passed, let note = testCase.disputed?.noteText {
            result.disputedMismatch = true
            result.message = "expected output follows another reading (\(note)); \(result.message ?? "")"
        }
        return result
    }

    /// A backward case: load everything, check the forward outputs (if listed), compute and compare the gradients.
    private static func runBackward(_ testCase: ConformanceCase, caseFolder: URL, backend: BackendSelection) -> CaseResult {
        var result = CaseResult(
            name: testCase.name, folder: caseFolder, op: testCase.op, passed: false, flags: testCase.flags, mode: .backward)
        func fail(_ message: String) -> CaseResult {
            result.message = message
            return result
        }
        let inputs: [CaseTensor?], expected: [CaseTensor?], outputGrads: [Tensor?], expectedGrads: [Tensor?]
        do {
            if testCase.expectError {
                guard testCase.outputs.allSatisfy({ $0 == nil }), testCase.inputGrads.allSatisfy({ $0 == nil }) else {
                    return fail("malformed case: expect_error is true but outputs or input_grads are listed")
                }
            } else if testCase.inputGrads.allSatisfy({ $0 == nil }) {
                return fail("malformed case: a backward case with no input_grads to compare (and expect_error is not true)")
            }
            if testCase.inputGrads.count > testCase.inputs.count {
                return fail("malformed case: input_grads has \(testCase.inputGrads.count) entries for \(testCase.inputs.count) input slots")
            }
            inputs = try testCase.loadInputs(from: caseFolder)
            expected = try testCase.loadExpectedOutputs(from: caseFolder)
            outputGrads = try testCase.loadOutputGrads(from: caseFolder)
            expectedGrads = try testCase.loadExpectedInputGrads(from: caseFolder)
        } catch {
            return fail("\(error)")
        }

        var problems: [String] = []
        let gradients: [Int: Tensor]
        do {
            if expected.contains(where: { $0 != nil }) {
                let actual = try ONNXMapping.run(testCase, inputs: inputs, backend: backend)
                let forwardTolerance: ConformanceCase.Tolerance =
                    testCase.op == "Resize" && testCase.attributes["mode"]?.stringValue == "cubic" ? .cubic : .standard
                for (slot, entry) in expected.enumerated() {
                    guard let entry else { continue }
                    guard slot < actual.count else {
                        problems.append("output \(slot): not produced (the operator returned \(actual.count) output\(actual.count == 1 ? "" : "s"))")
                        continue
                    }
                    let comparison = OutputComparison.compare(actual[slot], entry, tolerance: forwardTolerance, slot: slot)
                    result.outputs.append(comparison)
                    if let message = comparison.message { problems.append(message) }
                }
            }
            gradients = try ONNXMapping.runBackward(testCase, inputs: inputs, outputGrads: outputGrads, backend: backend)
        } catch let error as CNNKitError {
            if testCase.expectError {
                result.passed = true
                result.message = "threw as expected: \(error)"
                return result
            }
            return fail("CNNKitError: \(error)")
        } catch {
            return fail("\(error)")
        }
        if testCase.expectError {
            return fail("expected a CNNKitError, but the backward pass returned gradients for input slots \(gradients.keys.sorted())")
        }
        for (slot, entry) in expectedGrads.enumerated() {
            guard let entry else { continue }
            let name = testCase.inputGrads[slot]?.name.map { " (\($0))" } ?? ""
            guard let actual = gradients[slot] else {
                problems.append("input_grad \(slot)\(name): not computed")
                continue
            }
            let comparison = OutputComparison.compare(
                actual, entry, tolerance: testCase.tolerance, slot: slot, label: "input_grad \(slot)\(name)")
            result.inputGrads.append(comparison)
            if let message = comparison.message { problems.append(message) }
        }
        result.maxAbsError = result.inputGrads.compactMap(\.maxAbsError).max()
        result.maxRelError = result.inputGrads.compactMap(\.maxRelError).max()
        result.passed = problems.isEmpty && !result.inputGrads.isEmpty
            && result.inputGrads.allSatisfy(\.passed) && result.outputs.allSatisfy(\.passed)
        result.message = problems.isEmpty ? nil : problems.joined(separator: "; ")
        return result
    }

    /// Runs every case folder in order, calling `progress` after each (e.g. to print a line).
    public static func run(
        caseFolders: [URL], backend: BackendSelection = "reference", progress: (CaseResult) -> Void = { _ in }
    ) -> [CaseResult] {
        caseFolders.map { folder in
            let result = run(caseFolder: folder, backend: backend)
            progress(result)
            return result
        }
    }
}
