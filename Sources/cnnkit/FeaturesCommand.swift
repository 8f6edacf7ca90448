import ArgumentParser
import CNNKit
import CNNKitImageIO

/// The classic CNN picture: convolution with a kernel bank, ReLU, max pooling, bilinear up-sampling.
enum FeaturePipeline {
    /// Feature maps `[1, M, H, W]` of one image `[1, C, H, W]`.
    ///
    /// One convolution layer `[M, C, k, k]` (every kernel centred in the largest size, each applied to the mean
    /// of the channels, i.e. weight `kernel / C` on every channel; zero `same` padding), ReLU, K×K max pooling with
    /// stride K (skipped for K = 1), bilinear (half-pixel) up-sampling back to H×W. Steps are timed on `clock`.
    /// - Returns: the maps and the backends that ran the CNNKit steps.
    static func run(
        _ input: Tensor, bank: [Kernel2D], pool: Int, backend: BackendSelection, clock: inout StepClock
    ) throws -> (maps: Tensor, backends: [String]) {
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let kernelHeight = bank.map(\.height).max()!, kernelWidth = bank.map(\.width).max()!
        var weights: [Float] = []
        for kernel in bank {
            let padded = kernel.padded(toHeight: kernelHeight, width: kernelWidth)
            let share = padded.values.map { $0 / Float(channels) }
            for _ in 0..<channels { weights += share }
        }
        let weight = try Tensor(shape: [bank.count, channels, kernelHeight, kernelWidth], scalars: weights)
        var backends: [String] = []
        let convolutionPlan = try ConvolutionPlan(
            ConvolutionDescriptor(autoPad: .sameUpper), inputShape: input.shape, weightShape: weight.shape, backend: backend)
        var maps = try clock.measure("convolution") { try convolutionPlan.run(input: input, weight: weight) }
        clock.noteBackend(convolutionPlan.backend)
        backends.append(convolutionPlan.backend)
        clock.measure("relu") {
            maps.scalars.withUnsafeMutableBufferPointer { values in
                for i in values.indices where !(values[i] > 0) { values[i] = 0 }
            }
        }
        if pool > 1 {
            guard height >= pool, width >= pool else {
                throw CLIError("--pool \(pool): the image (\(width)x\(height)) is smaller than one pooling window")
            }
            let plan = try PoolingPlan(
                PoolingDescriptor(kind: .max, kernelShape: [pool, pool], strides: [pool, pool]), inputShape: maps.shape,
                backend: backend)
            maps = try clock.measure("max pool") { try plan.run(input: maps) }
            clock.noteBackend(plan.backend)
            backends.append(plan.backend)
            let upsample = try ResizePlan(
                ResizeDescriptor(target: .sizes([height, width]), mode: .linear, axes: [2, 3]), inputShape: maps.shape,
                backend: backend)
            maps = try clock.measure("bilinear up-sampling") { try upsample.run(input: maps) }
            clock.noteBackend(upsample.backend)
            backends.append(upsample.backend)
        }
        return (maps, backends)
    }
}

/// `cnnkit features IN OUT.png [--kernels LIST] [--pool K]`.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Draw what a bank of convolution kernels responds to, as one labelled PNG contact sheet.",
        discussion: """
            One convolution layer with the kernel bank (every kernel centred in the largest size and applied to \
            the mean of the colour channels, zero 'same' padding), ReLU, K×K max pooling (stride K), bilinear \
            up-sampling back to the input size; then one tile per feature map, each stretched to 0–255 from its minimum, \
            with its kernel's name above it (white = the 99.5th percentile). Grid: min(M, 4) columns; tiles W×H under a label band 9·s pixels high \
            (s = W/150 clamped to 1…3); 4-pixel gaps. Default bank: \(Kernels.defaultFeatureBank).

            IN may be a folder (OUT is then a folder of .png sheets; \(BatchOptions.folderHelp)). \
            Example: cnnkit features photo.png features.png --pool 2
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg or .npy, one image).")
    var input: String
    @Argument(help: "Output contact sheet (.png), or a folder.")
    var output: String
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Comma-separated kernels: built-in names, gaussian:SIGMA, box:K, gabor:DEG, [kH,kW] .npy files.",
        valueName: "list"))
    var kernels: String = Kernels.defaultFeatureBank
    @Option(parsing: .unconditional, help: "Max-pooling window and stride K, >= 1 (1 = no pooling).")
    var pool: Int = 2
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            guard pool >= 1 else { throw CLIError("--pool \(pool): expected a window size >= 1 (input \(input))") }
            let bank = try Kernels.featureBank(kernels)
            let backend = try common.prepare()
            try FileRunner(input: input, output: output, common: common, batch: batch, outputExtension: "png").run { image, inputPath, outputPath, clock in
                guard (try? ImageFileFormat(path: outputPath)) == .png else {
                    throw CLIError("\(outputPath): features writes a PNG contact sheet; name the output .png")
                }
                guard image.tensor.shape[0] == 1 else {
                    throw CLIError("\(inputPath): features takes one image, but the array holds a batch of \(image.tensor.shape[0])")
                }
                let (maps, _) = try FeaturePipeline.run(image.tensor, bank: bank, pool: pool, backend: backend, clock: &clock)
                let sheet = try clock.measure("contact sheet") { try ContactSheet.make(maps: maps, labels: bank.map(\.label)) }
                return OutputImage(tensor: sheet)
            }
        }
    }
}
