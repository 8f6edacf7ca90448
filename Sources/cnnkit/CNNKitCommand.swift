import ArgumentParser

// Placeholder root for the `bench` branch only: the CLI root with every subcommand lives on the `cli-tool` branch;
// at merge, add `BenchCommand.self` to its `subcommands:` list and drop this file's copy.

/// The `cnnkit` command.
@main
struct CNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnkit",
        abstract: "Convolution, pooling and resampling on images and tensors, through any CNNKit backend.",
        subcommands: [BenchCommand.self]
    )
}
