import ArgumentParser

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
}
