import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// A user-facing failure: one line that names the problem and the file (or option) at fault.
struct CLIError: Error, CustomStringConvertible, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// `--backend`, `--threads` and `--time`, shared by every subcommand.
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Backend: reference, c or auto (the first registered backend that supports the problem).",
        valueName: "name"))
    var backend: String = "auto"

    @Option(help: ArgumentHelp(
        "Threads for backends that take a thread count (the C backend; default: every core). The reference backend is single-threaded.",
        valueName: "n"))
    var threads: Int?

    @Flag(help: "Print the wall time of each step (read and decode, operator, encode and write).")
    var time = false

    /// The backend selection, after checking that a named backend is registered and applying `--threads`.
    /// - Throws: ``CLIError`` for an unknown backend or a thread count below 1.
    func prepare() throws(CLIError) -> BackendSelection {
        if let threads {
            guard threads >= 1 else { throw CLIError("--threads \(threads): expected a thread count >= 1") }
            // Every backend that takes a thread count is replaced in the registry by its configured copy.
            for name in BackendRegistry.shared.names {
                guard let configurable = BackendRegistry.shared.backend(named: name) as? any ConfigurableBackend,
                      let configured = try? configurable.configured(threads: threads, convolutionAlgorithm: nil, isa: nil)
                else { continue }
                BackendRegistry.shared.replace(configured)
            }
        }
        let selection = BackendSelection(backend)
        if case .named(let name) = selection, BackendRegistry.shared.backend(named: name) == nil {
            let available = BackendRegistry.shared.names.joined(separator: ", ")
            throw CLIError("--backend \(name): no such backend in this build (registered: \(available); or auto)")
        }
        return selection
    }
}

/// `--normalize` and `--quality`, for commands that write images.
struct OutputOptions: ParsableArguments {
    @Flag(help: "PNG/JPEG output: stretch the min…max of the result to 0–255 (default: clamp [0, 1] to 0–255).")
    var normalize = false

    @Option(help: ArgumentHelp("JPEG output quality, 1–100.", valueName: "q"))
    var quality: Int = ImageIO.defaultJPEGQuality
}

/// `--quiet`, `--shard K/N` and `--skip-existing`, for commands that run over files and folders.
struct BatchOptions: ParsableArguments {
    @Flag(help: "Print nothing on success (errors and warnings still go to stderr).")
    var quiet = false

    @Option(help: ArgumentHelp(
        "With an input folder: process only shard K of N (K = 0…N-1), the files whose name hashes to K mod N (64-bit FNV-1a of the file name: the same split on every machine and run).",
        valueName: "K/N"))
    var shard: String?

    @Flag(help: "Skip inputs whose output file already exists (outputs are written atomically, so an existing one is complete): reruns resume.")
    var skipExisting = false

    /// What the folder options do, for the subcommands' help.
    static let folderHelp = """
        files are decoded, computed and encoded in an overlapping pipeline; --shard K/N takes the files whose name \
        hashes to K mod N, so N machines can split a folder with no coordinator; --skip-existing resumes a run
        """

    /// `--shard` parsed, or nil without it.
    /// - Throws: ``CLIError`` when it is not `K/N` with 0 ≤ K < N.
    func parsedShard() throws(CLIError) -> Shard? {
        guard let shard else { return nil }
        guard let parsed = Shard(shard) else {
            throw CLIError("--shard \(shard): expected K/N with whole numbers 0 <= K < N, e.g. 0/4 … 3/4")
        }
        return parsed
    }
}

/// Wall-clock times of the named steps of one run.
struct StepClock {
    private(set) var steps: [(name: String, seconds: Double)] = []

    /// Runs `body`, recording its wall time under `name`.
    mutating func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { steps.append((name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)) }
        return try body()
    }

    /// Appends ` on BACKEND` to the name of the last step.
    mutating func noteBackend(_ backend: String) {
        guard !steps.isEmpty else { return }
        steps[steps.count - 1].name += " on \(backend)"
    }

    /// `read 2.1 ms, filter on reference 14.0 ms, write 6.3 ms`.
    var summary: String { steps.map { "\($0.name) \(formatDuration($0.seconds))" }.joined(separator: ", ") }
}

/// `0.42 ms`, `14.0 ms`, `1.23 s`.
func formatDuration(_ seconds: Double) -> String {
    if seconds >= 1 { return String(format: "%.2f s", seconds) }
    let ms = seconds * 1000
    return ms >= 10 ? String(format: "%.1f ms", ms) : String(format: "%.2f ms", ms)
}

/// Writing to standard output and error, and the progress bar of folder runs; safe from any thread (one lock
/// keeps lines whole).
enum Console {
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1
    private static let lock = NSLock()

    private static func write(_ text: String, to handle: FileHandle) {
        lock.withLock { handle.write(Data(text.utf8)) }
    }

    /// One line on standard output.
    static func line(_ message: String) {
        lock.withLock { FileHandle.standardOutput.write(Data("\(message)\n".utf8)) }
    }

    static func error(_ message: String) { write("cnnkit: error: \(message)\n", to: .standardError) }

    static func note(_ message: String) { write("cnnkit: note: \(message)\n", to: .standardError) }

    /// Redraws `[#####.....] 3/10 name` on the current terminal line.
    static func progress(_ done: Int, of total: Int, _ name: String) {
        guard stderrIsTerminal, total > 0 else { return }
        let width = 30, filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\u{1B}[K[\(bar)] \(done)/\(total) \(name.prefix(40))", to: .standardError)
    }

    /// Clears the progress bar line.
    static func clearProgress() {
        guard stderrIsTerminal else { return }
        write("\r\u{1B}[K", to: .standardError)
    }
}

/// The one-line message for any error a run can throw, naming `file` when the error itself does not.
func describe(_ error: any Error, file: String) -> String {
    switch error {
    case let error as CLIError: return error.message
    case let error as ImageIOError: return error.description
    case let error as CNNKitError: return "\(file): \(error)"
    default: return "\(file): \(error)"
    }
}

/// Runs a subcommand body; on failure prints `cnnkit: error: …` (one line) and exits with status 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let exit as ExitCode {
        throw exit
    } catch {
        Console.error(describe(error, file: "input"))
        throw ExitCode(1)
    }
}

/// Throws when an operation produced an image with no pixels (e.g. a window larger than the image).
func requireNonEmpty(_ result: Tensor, input: ImageFile, inputPath: String, what: String) throws(CLIError) {
    guard result.shape.contains(0) else { return }
    let shape = input.tensor.shape
    throw CLIError("\(inputPath): \(what) leaves no pixels (\(shape[3])x\(shape[2]) image → output shape \(result.shape))")
}
