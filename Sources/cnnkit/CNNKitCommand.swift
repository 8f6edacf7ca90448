import ArgumentParser

/// The `cnnkit` command: CNNKit's convolution, pooling and resampling on real images, through any backend.
@main
struct CNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnkit",
        abstract: "Convolution, pooling and resampling on images and tensors, through any CNNKit backend.",
        subcommands: [
            FilterCommand.self, PoolCommand.self, ResizeCommand.self, FeaturesCommand.self, DemoCommand.self,
            InfoCommand.self,
        ]
    )
}
