import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

extension FilterMode: ExpressibleByArgument {}
extension FilterPadding: ExpressibleByArgument {}

/// `--border` of `filter`: what the padding reads, in PyTorch's `padding_mode` words (plus OpenCV's symmetric).
enum FilterBorder: String, CaseIterable, ExpressibleByArgument {
    case zero, reflect, symmetric, replicate, circular

    init?(argument: String) {
        switch argument {
        case "zero", "zeros", "constant": self = .zero
        case "reflect", "reflect101": self = .reflect
        case "symmetric": self = .symmetric
        case "replicate", "edge": self = .replicate
        case "circular", "wrap": self = .circular
        default: return nil
        }
    }

    var mode: BorderMode {
        switch self {
        case .zero: return .constant
        case .reflect: return .reflect
        case .symmetric: return .symmetric
        case .replicate: return .edge
        case .circular: return .wrap
        }
    }
}

/// `cnnkit filter IN OUT --kernel K`: a fixed kernel run through CNNKit's convolution.
struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter an image with a fixed kernel through CNNKit's convolution.",
        discussion: """
            Colour images are filtered per channel (group = C, the depthwise case). `same` padding gives output \
            ceil(L/stride); `valid` uses no padding; --pads T,L,B,R sets each side. The padding reads --border: \
            reflect by default (OpenCV's BORDER_REFLECT_101, PyTorch's 'reflect'), so photos come out without a \
            frame; --border zero gives CNN-layer semantics (ONNX Conv); symmetric (OpenCV BORDER_REFLECT), \
            replicate (edge) and circular (wrap) are the others. Kernels: \(Kernels.grammar). A .npy kernel bank \
            [M, C/groups, kH, kW] runs as a convolution layer with --groups and an optional --bias [M] .npy. \
            Signed results (sobel-x, laplacian, …) look best with --normalize or as .npy.

            IN and OUT may be folders: every .png, .jpg, .jpeg and .npy in IN is filtered into OUT under the same name \
            (\(BatchOptions.folderHelp)).
            Example: cnnkit filter photo.jpg edges.png --kernel sobel --normalize
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg, or .npy [H,W], [C,H,W], [N,C,H,W]).")
    var input: String
    @Argument(help: "Output file or folder; the format follows the extension (.png, .jpg/.jpeg or .npy).")
    var output: String
    @Option(parsing: .unconditional, help: ArgumentHelp("Kernel name, gaussian:SIGMA, box:K, gabor:DEG or a .npy file (see below).", valueName: "kernel"))
    var kernel: String
    @Option(help: "correlate (cross-correlation, as CNN layers) or convolve (kernel flipped).")
    var mode: FilterMode = .correlate
    @Option(help: "same (zero padding, output ceil(L/stride)) or valid (no padding).")
    var padding: FilterPadding = .same
    @Option(parsing: .unconditional, help: "Stride along both axes, >= 1.")
    var stride: Int = 1
    @Option(help: "What the padding reads: reflect (default), zero, symmetric, replicate or circular.")
    var border: FilterBorder = .reflect
    @Option(parsing: .unconditional, help: "Dilation along both axes, >= 1 (1 = a dense kernel).")
    var dilation: Int = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("Explicit pads top,left,bottom,right (>= 0), instead of --padding.", valueName: "t,l,b,r"))
    var pads: String?
    @Option(parsing: .unconditional, help: "Channel groups of a .npy kernel bank [M, C/groups, kH, kW], >= 1.")
    var groups: Int = 1
    @Option(help: ArgumentHelp("A .npy bias [M] added to each output channel of a .npy kernel bank.", valueName: "file"))
    var bias: String?
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            guard stride >= 1 else { throw CLIError("--stride \(stride): expected a stride >= 1 (input \(input))") }
            guard dilation >= 1 else { throw CLIError("--dilation \(dilation): expected a dilation >= 1 (input \(input))") }
            guard groups >= 1 else { throw CLIError("--groups \(groups): expected groups >= 1 (input \(input))") }
            let explicitPads = try pads.map { text -> [Int] in
                let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard values.count == 4, let t = values[0], let l = values[1], let b = values[2], let r = values[3], [t, l, b, r].allSatisfy({ $0 >= 0 }) else {
                    throw CLIError("--pads \(text): expected four pads >= 0 as top,left,bottom,right (input \(input))")
                }
                return [t, l, b, r]  // ONNX order: begins (H, W), then ends
            }
            let backend = try common.prepare()
            let spec = try Kernels.filterSpec(kernel)
            var biasTensor: Tensor? = nil
            if case .layer = spec {
                if let bias {
                    try requireRegularFile(bias, expected: "a .npy file")
                    biasTensor = try Tensor(npyFile: URL(fileURLWithPath: bias))
                }
            } else if groups != 1 || bias != nil {
                throw CLIError("\(groups != 1 ? "--groups" : "--bias") applies to a .npy kernel bank only (--kernel \(kernel) filters each channel)")
            }
            let runner = FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality)
            try runner.run { image, inputPath, outputPath, clock in
                let (result, used) = try clock.measure("filter") {
                    try blamingOptions(["strides": "--stride \(stride)", "dilations": "--dilation \(dilation)", "pads": "--pads / --border",
                                        "group": "--groups \(groups)", "bias.shape": "--bias \(bias ?? "")"], file: inputPath) {
                        try ImageOperations.filter(
                            image.tensor, spec, mode: mode, padding: padding, stride: stride, border: border.mode, dilation: dilation,
                            pads: explicitPads, groups: groups, bias: biasTensor, backend: backend)
                    }
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "filtering with --kernel \(kernel)")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }
}
