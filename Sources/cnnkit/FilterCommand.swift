import ArgumentParser
import CNNKit
import CNNKitImageIO

extension FilterMode: ExpressibleByArgument {}
extension FilterPadding: ExpressibleByArgument {}

/// `cnnkit filter IN OUT --kernel K`: a fixed kernel run through CNNKit's convolution.
struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter an image with a fixed kernel through CNNKit's convolution.",
        discussion: """
            Colour images are filtered per channel (group = C, the depthwise case). `same` padding is zero padding, \
            as in a CNN layer (output ceil(L/stride)); `valid` uses no padding. Kernels: \(Kernels.grammar). \
            Signed results (sobel-x, laplacian, …) look best with --normalize or as .npy.

            IN and OUT may be folders: every .png, .jpg, .jpeg and .npy in IN is filtered into OUT under the same name \
            (\(BatchOptions.folderHelp)).
            Example: cnnkit filter photo.jpg edges.png --kernel sobel --normalize
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg, or .npy [H,W], [C,H,W], [N,C,H,W]).")
    var input: String
    @Argument(help: "Output file or folder; the format follows the extension (.png, .jpg/.jpeg or .npy).")
    var output: String
    @Option(help: ArgumentHelp("Kernel name, gaussian:SIGMA, box:K, gabor:DEG or a .npy file (see below).", valueName: "kernel"))
    var kernel: String
    @Option(help: "correlate (cross-correlation, as CNN layers) or convolve (kernel flipped).")
    var mode: FilterMode = .correlate
    @Option(help: "same (zero padding, output ceil(L/stride)) or valid (no padding).")
    var padding: FilterPadding = .same
    @Option(help: "Stride along both axes.")
    var stride: Int = 1
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            guard stride >= 1 else { throw CLIError("--stride \(stride): expected a stride >= 1 (input \(input))") }
            let backend = try common.prepare()
            let spec = try Kernels.filterSpec(kernel)
            let runner = FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality)
            try runner.run { image, inputPath, outputPath, clock in
                let (result, used) = try clock.measure("filter") {
                    try ImageOperations.filter(image.tensor, spec, mode: mode, padding: padding, stride: stride, backend: backend)
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "filtering with --kernel \(kernel)")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }
}
