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
    /// One comparison per expected output slot that was compared.
    public var outputs: [OutputComparison]

    /// Creates a result.
    public init(
        name: String, folder: URL, op: String? = nil, passed: Bool, maxAbsError: Double? = nil,
        maxRelError: Double? = nil, message: String? = nil, flags: CaseFlags = [], outputs: [OutputComparison] = []
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
    }
}

/// Finds conformance case folders and runs them against a CNNKit backend.
///
/// A case folder is any directory holding a `case.json` manifest (format: the conformance README). Running a case
/// loads its inputs, maps the ONNX node onto a CNNKit call (``ONNXMapping``), runs it on the chosen backend and
/// compares every expected output (``OutputComparison``). Nothing about a case — bad JSON, a missing file, an
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
    public static func run(caseFolder: URL, backend: BackendSelection = "reference") -> CaseResult {
        let testCase: ConformanceCase
        do {
            testCase = try ConformanceCase.load(from: caseFolder)
        } catch {
            return CaseResult(name: caseFolder.lastPathComponent, folder: caseFolder, passed: false, message: "\(error)")
        }
        var result = CaseResult(name: testCase.name, folder: caseFolder, op: testCase.op, passed: false, flags: testCase.flags)
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
