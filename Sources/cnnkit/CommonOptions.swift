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

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Threads for backends that take a thread count (the C backend), \(ThreadCount.range.lowerBound)…\(ThreadCount.range.upperBound); default: CNNKIT_NUM_THREADS if set, else every core. The reference backend is single-threaded.",
        valueName: "n"))
    var threads: Int?

    @Flag(help: "Print the wall time of each step (read and decode, operator, encode and write).")
    var time = false

    /// The backend selection, after checking that a named backend is registered and applying `--threads`.
    /// - Throws: ``CLIError`` for an unknown backend or a thread count outside ``ThreadCount/range``.
    func prepare() throws(CLIError) -> BackendSelection {
        try ThreadCount.apply(threads, option: "--threads")
        return try Self.selection(backend, option: "--backend")
    }

    /// `name` as a backend selection, after checking that a named backend is registered.
    /// - Throws: ``CLIError`` naming `option` for an unknown backend.
    static func selection(_ name: String, option: String) throws(CLIError) -> BackendSelection {
        let selection = BackendSelection(name)
        if case .named(let name) = selection, BackendRegistry.shared.backend(named: name) == nil {
            let available = BackendRegistry.shared.names.joined(separator: ", ")
            throw CLIError("\(option) \(name): no such backend in this build (registered: \(available); or auto)")
        }
        return selection
    }
}

/// Seeds (`pool --stochastic`, `train --seed`): whole numbers 0…2^64−1, with the rule in the message when a value is
/// not one (ArgumentParser alone would only say it is invalid).
enum Seed {
    static func parse(_ text: String) throws -> UInt64 {
        guard let value = UInt64(text) else { throw ValidationError("expected a whole number from 0 to \(UInt64.max)") }
        return value
    }
}

/// Thread counts: `--threads N` of every subcommand and the `CNNKIT_NUM_THREADS` environment variable.
enum ThreadCount {
    /// The counts accepted: 1…``CBackend/maximumThreads`` (a larger count is a typo, not a machine).
    static let range = 1...CBackend.maximumThreads

    /// Checks `--threads`.
    /// - Throws: ``CLIError`` naming `option` and the value when it is outside ``range``.
    static func check(_ threads: Int, option: String) throws(CLIError) {
        guard range.contains(threads) else {
            throw CLIError("\(option) \(threads): expected a thread count from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    /// Checks `threads` and replaces every backend that takes a thread count by its copy configured with it.
    static func apply(_ threads: Int?, option: String) throws(CLIError) {
        guard let threads else { return }
        try check(threads, option: option)
        for name in BackendRegistry.shared.names {
            guard let configurable = BackendRegistry.shared.backend(named: name) as? any ConfigurableBackend,
                  let configured = try? configurable.configured(threads: threads, convolutionAlgorithm: nil, isa: nil)
            else { continue }
            BackendRegistry.shared.replace(configured)
        }
    }

    /// Checks `CNNKIT_NUM_THREADS` (parsed by the C backend, the one place that reads it), before any subcommand
    /// runs: the backend itself falls back on every core for a value it cannot use, which would hide a typo.
    /// - Throws: ``CLIError`` naming the variable, its value and the range.
    static func checkEnvironment() throws(CLIError) {
        do { _ = try CBackend.environmentThreadCount() } catch {
            throw CLIError("CNNKIT_NUM_THREADS=\(error.value): expected \(error.expected)")
        }
    }
}

/// `--normalize` and `--quality`, for commands that write images.
struct OutputOptions: ParsableArguments {
    @Flag(help: "PNG/JPEG output: stretch the min…max of the result to 0–255 (default: clamp [0, 1] to 0–255).")
    var normalize = false

    @Option(parsing: .unconditional, help: ArgumentHelp("JPEG output quality, 1–100.", valueName: "q"))
    var quality: Int = ImageIO.defaultJPEGQuality
}

/// `--quiet`, `--shard K/N` and `--skip-existing`, for commands that run over files and folders.
struct BatchOptions: ParsableArguments {
    @Flag(help: "Print nothing on success (errors and warnings still go to stderr).")
    var quiet = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
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

    private static func write(_ text: String, to descriptor: Int32) {
        lock.withLock { rawWrite(text, to: descriptor) }
    }

    /// Writes all of `text` with `write(2)`. A closed pipe (EPIPE; SIGPIPE is ignored) stops the run as a signal
    /// does (``Interrupts/stop(signal:)``, status 141) when `stopOnClosedPipe`; other errors are ignored (there is
    /// nowhere left to report them).
    static func rawWrite(_ text: String, to descriptor: Int32, stopOnClosedPipe: Bool = true) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE && stopOnClosedPipe { Interrupts.stop(signal: SIGPIPE) }
                return
            }
            offset += written
        }
    }

    /// One line on standard output.
    static func line(_ message: String) { write("\(message)\n", to: STDOUT_FILENO) }

    static func error(_ message: String) { write("cnnkit: error: \(message)\n", to: STDERR_FILENO) }

    static func note(_ message: String) { write("cnnkit: note: \(message)\n", to: STDERR_FILENO) }

    /// Redraws `[#####.....] 3/10 name` on the current terminal line.
    static func progress(_ done: Int, of total: Int, _ name: String) {
        guard stderrIsTerminal, total > 0 else { return }
        let width = 30, filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\u{1B}[K[\(bar)] \(done)/\(total) \(name.prefix(40))", to: STDERR_FILENO)
    }

    /// Clears the progress bar line.
    static func clearProgress() {
        guard stderrIsTerminal else { return }
        write("\r\u{1B}[K", to: STDERR_FILENO)
    }
}

/// The one-line message for any error a run can throw, naming `file` (the input being processed, if any) when the
/// error itself does not.
func describe(_ error: any Error, file: String?) -> String {
    let message: String
    switch error {
    case let error as CLIError: message = error.message
    case let error as ImageIOError: message = error.description
    case let error as CNNKitError: message = "\(error)"
    case let error as CocoaError:
        // Foundation's file errors: the path and the POSIX reason, not the NSError dump.
        let path = error.filePath ?? error.url?.path
        let reason = (error.underlying as? POSIXError).map { String(cString: strerror($0.code.rawValue)) } ?? error.localizedDescription
        message = path.map { "\($0): \(reason)" } ?? reason
    default: message = "\(error)"
    }
    guard let file, !message.contains(file) else { return message }
    return "\(file): \(message)"
}

/// Runs a subcommand body; on failure prints `cnnkit: error: …` (one line) and exits with status 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let exit as ExitCode {
        throw exit
    } catch {
        Console.error(describe(error, file: nil))
        throw ExitCode(1)
    }
}

/// Runs a check of `validate()`, as a usage error (one line and a pointer to the subcommand's help).
func usageError(_ check: () throws(CLIError) -> Void) throws {
    do { try check() } catch { throw ValidationError(error.message) }
}

/// Runs `body`, turning a ``CNNKitError`` about one of `options`' library parameters (`kernel_shape`, `strides`, …)
/// into a ``CLIError`` that blames the command-line option the user gave (`--kernel 4611686018427387904: …`).
func blamingOptions<T>(_ options: [String: String], file: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as CNNKitError {
        guard let option = options[error.parameter] else { throw error }
        throw CLIError("\(file): \(option): \(error.parameter) = \(error.value); expected \(error.expected)")
    }
}

/// Throws unless `path` is a regular file (or a link to one): reading a FIFO or a character device (`/dev/zero`)
/// would block or never end.
func requireRegularFile(_ path: String, expected: String = "a .png, .jpg, .jpeg or .npy file") throws(CLIError) {
    var info = stat()
    guard stat(path, &info) == 0 else { return }  // missing: the reader reports it
    let type = info.st_mode & S_IFMT
    guard type != S_IFREG, type != S_IFDIR else { return }  // a folder: the caller or the reader reports it
    let kind = type == S_IFIFO ? "a FIFO" : type == S_IFCHR ? "a character device" : type == S_IFSOCK ? "a socket" : "not a regular file"
    throw CLIError("\(path): \(kind), not a file (expected \(expected))")
}

/// Throws when an operation produced an image with no pixels (e.g. a window larger than the image).
func requireNonEmpty(_ result: Tensor, input: ImageFile, inputPath: String, what: String) throws(CLIError) {
    guard result.shape.contains(0) else { return }
    let shape = input.tensor.shape
    throw CLIError("\(inputPath): \(what) leaves no pixels (\(shape[3])x\(shape[2]) image → output shape \(result.shape))")
}
