import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// `cnnkit pool IN OUT (--max|--avg|--lp P|--stochastic SEED) --kernel K`.
struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Pool an image (max, average, Lp or stochastic) through CNNKit.",
        discussion: """
            Square K×K windows; the stride defaults to K (non-overlapping windows, the usual down-sampling). \
            --padding P pads every side by P (padding never contributes to max; average divides by the taps inside \
            the image). --ceil rounds the output size up (ONNX ceil_mode). --stochastic draws one element per \
            window with probability proportional to its positive value, reproducibly from SEED. --global pools each \
            channel to one value (ONNX Global*Pool); --adaptive WxH pools to that output size with PyTorch's \
            adaptive windows (max or average), instead of --kernel. --indices FILE.npy (--max, single file) writes \
            the argmax of each output as int64 flat positions in the input (ONNX MaxPool Indices).

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
    @Option(parsing: .unconditional, help: ArgumentHelp("Lp pooling with this p > 0.", valueName: "p"))
    var lp: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("Stochastic pooling (training mode) with this seed, 0…2^64-1.", valueName: "seed"),
            transform: Seed.parse)
    var stochastic: UInt64?
    @Option(parsing: .unconditional, help: "Window size K (K×K), >= 1 (not with --global / --adaptive).")
    var kernel: Int?
    @Flag(help: "Global pooling: one value per channel.")
    var global = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Adaptive pooling to this output size (PyTorch AdaptiveMaxPool2d / AdaptiveAvgPool2d).", valueName: "WxH"))
    var adaptive: String?
    @Option(help: ArgumentHelp("With --max on one file: write the argmax indices (int64 .npy).", valueName: "file.npy"))
    var indices: String?
    @Option(parsing: .unconditional, help: "Stride, >= 1 (default: the kernel size).")
    var stride: Int?
    @Option(parsing: .unconditional, help: "Zero padding on every side, >= 0.")
    var padding: Int = 0
    @Flag(help: "Round the output size up (ONNX ceil_mode = 1).")
    var ceil = false
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        // A usage error (one line, status 64): the window is --kernel K, --global or --adaptive WxH.
        guard [kernel != nil, global, adaptive != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --kernel K, --global, --adaptive WxH")
        }
    }

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
            if let indices {
                guard kind == .max else { throw CLIError("--indices \(indices): argmax indices need --max") }
                guard indices.hasSuffix(".npy") else { throw CLIError("--indices \(indices): expected a .npy file name") }
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder.boolValue {
                    throw CLIError("--indices \(indices): only for a single input file (\(input) is a folder)")
                }
            }
            if global || adaptive != nil {
                guard self.stride == nil, padding == 0, !ceil else {
                    throw CLIError("pool: --stride, --padding and --ceil apply to --kernel windows only (input \(input))")
                }
                try runWithoutKernel(kind)
                return
            }
            let kernel = self.kernel!
            guard kernel >= 1 else { throw CLIError("--kernel \(kernel): expected a window size >= 1 (input \(input))") }
            let stride = self.stride ?? kernel
            guard stride >= 1 else { throw CLIError("--stride \(stride): expected a stride >= 1 (input \(input))") }
            guard padding >= 0 else { throw CLIError("--padding \(padding): expected padding >= 0 (input \(input))") }
            let backend = try common.prepare()
            try FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality).run { image, inputPath, outputPath, clock in
                let (result, used) = try clock.measure("pool") {
                    try blamingOptions(
                        ["kernel_shape": "--kernel \(kernel)", "strides": self.stride == nil ? "--kernel \(kernel) (the default stride)" : "--stride \(stride)",
                         "pads": "--padding \(padding)"], file: inputPath
                    ) {
                        try ImageOperations.pool(
                            image.tensor, kind: kind, kernel: kernel, stride: stride, padding: padding, ceil: ceil,
                            indices: indices, backend: backend)
                    }
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "pooling with --kernel \(kernel)")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }

    /// --global and --adaptive: the window follows from the input (and the requested output size).
    private func runWithoutKernel(_ kind: PoolingKind) throws {
        var size: [Int]? = nil
        if let adaptive {
            let parts = adaptive.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let w = parts[0], let h = parts[1], w >= 1, h >= 1 else {
                throw CLIError("--adaptive \(adaptive): expected WxH with W, H >= 1, e.g. 7x7 (input \(input))")
            }
            guard kind == .max || kind == .average(countIncludePad: false) else {
                throw CLIError("--adaptive \(adaptive): adaptive pooling is --max or --avg (input \(input))")
            }
            size = [h, w]
        }
        let backend = try common.prepare()
        try FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality).run { image, inputPath, _, clock in
            let (result, used) = try clock.measure("pool") {
                try blamingOptions(["output_size": "--adaptive \(adaptive ?? "")", "input.shape": "the image"], file: inputPath) {
                    try ImageOperations.pool(image.tensor, kind: kind, adaptive: size, indices: indices, backend: backend)
                }
            }
            clock.noteBackend(used)
            return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
        }
    }
}
