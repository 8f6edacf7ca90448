import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// Runs the built `cnnkit` executable as a subprocess, the way a user does.
enum CLI {
    /// The package root (three folders above this file).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The tool's bundled photo, the input of the end-to-end tests.
    static let photo = packageRoot.appendingPathComponent("Sources/cnnkit/Resources/chelsea.png").path

    /// The small PNG fixtures written by `Fixtures/cli/make_fixtures.py`.
    static func fixture(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/CNNKitTests/Fixtures/cli/\(name)").path
    }

    /// `cnnkit` in the same build products folder as the running test bundle (`swift test` builds it, debug or
    /// release), else `.build/debug` or `.build/release` of the package.
    static let executable: String? = {
        var folders: [String] = []
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append((running as NSString).deletingLastPathComponent)
        }
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            folders.append((bundle.bundlePath as NSString).deletingLastPathComponent)
        }
        folders += [".build/debug", ".build/release"].map { packageRoot.appendingPathComponent($0).path }
        return folders.map { "\($0)/cnnkit" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Non-empty lines of stderr.
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
    }

    /// Runs `cnnkit arguments…` in `folder` and waits for it (without blocking a thread of the test pool).
    /// `environment` is added to the test's environment. A run still going after `timeout` seconds is killed
    /// (status 9 is then reported as a test issue), so that a hang fails the test instead of stalling the suite.
    static func run(
        _ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:], timeout: Double = 600
    ) async throws -> Result {
        guard let executable else {
            Issue.record("the cnnkit executable was not found next to the test bundle; run `swift build` first")
            return Result(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        // Capture into files rather than pipes: no risk of a child blocking on a full pipe.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-cli-\(UUID().uuidString)")
        let outURL = capture.appendingPathExtension("out"), errURL = capture.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL {
            Issue.record("cnnkit \(arguments.joined(separator: " ")) did not finish within \(timeout) s (killed)")
        }
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// A `cnnkit` run started in the background, for tests that signal it while it works.
final class BackgroundCLI {
    let process = Process()
    private let errURL: URL

    /// Starts `cnnkit arguments…` (standard output discarded, standard error kept for ``finish(within:)``).
    init(_ arguments: [String]) throws {
        guard let executable = CLI.executable else {
            throw CLIError.noExecutable
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        errURL = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-cli-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: errURL)
    }

    enum CLIError: Error { case noExecutable }

    /// Waits up to `seconds` for the process to end: its status (nil if it was killed by a signal, or still runs)
    /// and its standard error.
    func finish(within seconds: Double) async throws -> (status: Int32?, stderr: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard !process.isRunning else { return (nil, stderr) }
        return (process.terminationReason == .exit ? process.terminationStatus : nil, stderr)
    }
}

/// A fresh temporary folder, removed at the end of the test.
final class ScratchFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Every file name in the folder, hidden ones included (to catch left-over temporary files).
    var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }
}

/// Reads an image with the library the tool uses (`[1, C, H, W]`).
func readImage(_ path: String) throws -> Tensor { try ImageIO.read(path).tensor }

/// Largest |a − b|, or infinity when the shapes differ.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
