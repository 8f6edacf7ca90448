import ArgumentParser
import Foundation

/// The `cnnkit` command-line tool: CNNKit's convolution, pooling and resampling on real images and tensors,
/// through any backend; one subcommand per file in this folder.
///
/// To add a subcommand, add a file with a `ParsableCommand` and list its type in `subcommands` below.
@main
struct CNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnkit",
        abstract: "Convolution, pooling and resampling on images and float32 tensors (ONNX semantics), through any CNNKit backend.",
        subcommands: [
            FilterCommand.self, PoolCommand.self, ResizeCommand.self, FeaturesCommand.self, DemoCommand.self,
            InfoCommand.self, ConformanceCommand.self, BenchCommand.self, TrainCommand.self,
        ]
    )

    /// Parses and runs like ArgumentParser's `main`, with signal handling (``Interrupts``), the
    /// `CNNKIT_NUM_THREADS` check, and short errors: a usage error is one line naming what is wrong and pointing
    /// to `cnnkit SUBCOMMAND --help` (status 64), any other error one line (status 1); `--help` prints the help.
    static func main() {
        Interrupts.install()
        var commandName: String?
        do {
            var command = try parseAsRoot()
            // One of the subcommands (not the root, not ArgumentParser's help command).
            if configuration.subcommands.contains(where: { ObjectIdentifier($0) == ObjectIdentifier(type(of: command)) }) {
                commandName = type(of: command).configuration.commandName
                try ThreadCount.checkEnvironment()
            }
            try command.run()
        } catch {
            exitReporting(error, commandName: commandName)
        }
        Foundation.exit(0)
    }

    /// Prints `error` in one line (help and version requests: the full text, as ArgumentParser does) and exits.
    static func exitReporting(_ error: any Error, commandName: String?) -> Never {
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }  // --help, help SUBCOMMAND, --version
        if let error = error as? CLIError {
            Console.error(error.message)
            Foundation.exit(ExitCode.failure.rawValue)
        }
        let text = Self.message(for: error)
            .split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if text.isEmpty { Foundation.exit(code.rawValue) }  // ExitCode(n): the message was printed already
        var line = text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
        if code == .validationFailure {
            // An error thrown by run() belongs to the parsed subcommand; a parse error names its subcommand in
            // ArgumentParser's full message.
            let help = commandName.map { "cnnkit \($0)" }
                ?? fullMessage(for: error).firstMatch(of: /See '([^']+) --help'/).map { String($0.1) } ?? "cnnkit"
            line += " (see '\(help) --help')"
        }
        Console.error(line)
        Foundation.exit(code.rawValue)
    }
}
