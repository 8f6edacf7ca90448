import ArgumentParser

/// The `cnnkit` command-line tool: one subcommand per file in this folder.
///
/// To add a subcommand, add a file with a `ParsableCommand` and list its type in `subcommands` below.
@main
struct CNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnkit",
        abstract: "Convolution, pooling and resampling on float32 tensors (ONNX semantics).",
        subcommands: [
            ConformanceCommand.self, BenchCommand.self,
        ]
    )
}
