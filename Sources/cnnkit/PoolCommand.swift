import ArgumentParser
import CNNKit
import CNNKitImageIO

/// `cnnkit pool IN OUT (--max|--avg|--lp P|--stochastic SEED) --kernel K`.
struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Pool an image (max, average, Lp or stochastic) through CNNKit.",
        discussion: """
            Square K×K windows; the stride defaults to K (non-overlapping windows, the usual down-sampling). \
            --padding P pads every side by P (padding never contributes to max; average divides by the taps inside \
            the image). --ceil rounds the output size up (ONNX ceil_mode). --stochastic draws one element per \
            window with probability proportional to its positive value, reproducibly from SEED.

            IN and OUT may be folders (\(BatchOptions.folderHelp)). Example: cnnkit pool photo.jpg small.png --max --kernel 2
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg or .npy).")
    var input: String
    @Argument(help: "Output file or folder; the format follows the extension.")
    var output: String
    @Flag(help: "Max pooling.")
    var max = false
    @Flag(help: "Average pooling (padding not counted).")
    var avg = false
    @Option(help: ArgumentHelp("Lp pooling with this p > 0.", valueName: "p"))
    var lp: Float?
    @Option(help: ArgumentHelp("Stochastic pooling (training mode) with this seed.", valueName: "seed"))
    var stochastic: UInt64?
    @Option(help: "Window size K (K×K).")
    var kernel: Int
    @Option(help: "Stride (default: the kernel size).")
    var stride: Int?
    @Option(help: "Zero padding on every side.")
    var padding: Int = 0
    @Flag(help: "Round the output size up (ONNX ceil_mode = 1).")
    var ceil = false
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            var kinds: [PoolingKind] = []
            if max { kinds.append(.max) }
            if avg { kinds.append(.average(countIncludePad: false)) }
            if let lp {
                guard lp.isFinite, lp > 0 else { throw CLIError("--lp \(lp): expected a finite p > 0 (input \(input))") }
                kinds.append(.lp(p: lp))
            }
            if let stochastic { kinds.append(.stochastic(seed: stochastic)) }
            guard kinds.count == 1, let kind = kinds.first else {
                throw CLIError("pool: give exactly one of --max, --avg, --lp P, --stochastic SEED (input \(input))")
            }
            guard kernel >= 1 else { throw CLIError("--kernel \(kernel): expected a window size >= 1 (input \(input))") }
            let stride = self.stride ?? kernel
            guard stride >= 1 else { throw CLIError("--stride \(stride): expected a stride >= 1 (input \(input))") }
            guard padding >= 0 else { throw CLIError("--padding \(padding): expected padding >= 0 (input \(input))") }
            let backend = try common.prepare()
            try FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality).run { image, inputPath, outputPath, clock in
                let (result, used) = try clock.measure("pool") {
                    try ImageOperations.pool(
                        image.tensor, kind: kind, kernel: kernel, stride: stride, padding: padding, ceil: ceil, backend: backend)
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "pooling with --kernel \(kernel)")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }
}
