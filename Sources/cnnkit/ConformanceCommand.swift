import ArgumentParser
import CNNKit
import CNNKitConformance
import Foundation

/// `cnnkit conformance DIR... [--backend NAME] [--skip-flagged] [--verbose]`: runs the conformance cases found
/// under the given folders and prints one line per failing case, then `N passed, M failed`.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run ONNX operator conformance cases (folders holding case.json) against a backend.",
        discussion: """
            Every folder under DIR that holds a case.json is one case. Prints one line per failing case (name, \
            max abs / rel error or the error text), and with --verbose passing cases too, then ends with \
            "N passed, M failed" (", K disputed" for cases marked disputed whose expected output follows a \
            reading CNNKit does not take — printed as DISPUTED with the note; ", K skipped" when --skip-flagged \
            skipped something). Exit status 0 only when no case failed.
            """)

    @Argument(help: "Folders to search recursively for case folders.", completion: .directory)
    var directories: [String]

    @Option(help: "Backend to run: a registered name (reference, c, …) or auto.")
    var backend: String = "reference"

    @Flag(help: "Skip cases marked disputed or implementation_defined.")
    var skipFlagged = false

    @Flag(name: .shortAndLong, help: "Also print passing (and skipped) cases.")
    var verbose = false

    func validate() throws {
        guard !directories.isEmpty else { throw ValidationError("Give at least one folder of conformance cases.") }
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("Not a directory: \(directory)")
            }
        }
        let registered = BackendRegistry.shared.names
        guard backend == "auto" || registered.contains(backend) else {
            throw ValidationError(
                "Unknown backend '\(backend)'; registered: \((registered + ["auto"]).joined(separator: ", ")).")
        }
    }

    func run() throws {
        let folders = try ConformanceRunner.discover(directories.map { URL(fileURLWithPath: $0) })
        guard !folders.isEmpty else {
            FileHandle.standardError.write(Data("cnnkit: no case.json found under \(directories.joined(separator: " "))\n".utf8))
            print("0 passed, 0 failed")
            throw ExitCode.failure
        }
        var passed = 0, failed = 0, skipped = 0, disputed = 0
        for folder in folders {
            if skipFlagged, let testCase = try? ConformanceCase.load(from: folder), !testCase.flags.isEmpty {
                skipped += 1
                if verbose { print("skip  \(testCase.name)  [\(testCase.flags)]") }
                continue
            }
            let result = ConformanceRunner.run(caseFolder: folder, backend: BackendSelection(backend))
            if result.passed { passed += 1 } else if result.disputedMismatch { disputed += 1 } else { failed += 1 }
            if !result.passed || verbose { print(Self.line(for: result)) }
        }
        print("\(passed) passed, \(failed) failed" + (disputed > 0 ? ", \(disputed) disputed" : "")
            + (skipped > 0 ? ", \(skipped) skipped" : ""))
        if failed > 0 { throw ExitCode.failure }
    }

    /// `FAIL  name  max_abs=… max_rel=…  [flags]  message` (`ok    …` for a passing case, `DISPUTED` for a disputed
    /// case whose expected output follows a reading CNNKit does not take).
    static func line(for result: CaseResult) -> String {
        var parts = [(result.passed ? "ok  " : result.disputedMismatch ? "DISPUTED" : "FAIL"), result.name]
        if let abs = result.maxAbsError, let rel = result.maxRelError {
            parts.append("max_abs=\(format(abs)) max_rel=\(format(rel))")
        }
        if !result.flags.isEmpty { parts.append("[\(result.flags)]") }
        if let message = result.message { parts.append(message) }
        return parts.joined(separator: "  ")
    }

    private static func format(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.3g", value)
    }
}
