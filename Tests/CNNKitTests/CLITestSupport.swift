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
    static func run(_ arguments: [String], in folder: URL? = nil) async throws -> Result {
        guard let executable else {
            Issue.record("the cnnkit executable was not found next to the test bundle; run `swift build` first")
            return Result(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
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
            }
        }
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
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
