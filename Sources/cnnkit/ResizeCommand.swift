import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// `--mode` of `resize`.
enum ResizeModeOption: String, CaseIterable, ExpressibleByArgument {
    case nearest, bilinear, bicubic, area
}

/// `--coordinates` of `resize` (ONNX coordinate_transformation_mode).
enum CoordinatesOption: String, CaseIterable, ExpressibleByArgument {
    case halfPixel = "half-pixel"
    case alignCorners = "align-corners"
    case asymmetric
    case pytorchHalfPixel = "pytorch-half-pixel"

    var transformation: CoordinateTransformation {
        switch self {
        case .halfPixel: return .halfPixel
        case .alignCorners: return .alignCorners
        case .asymmetric: return .asymmetric
        case .pytorchHalfPixel: return .pytorchHalfPixel
        }
    }
}

/// `cnnkit resize IN OUT (--scale F | --size WxH) --mode M`.
struct ResizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resize",
        abstract: "Resize an image (nearest, bilinear, bicubic or exact area averaging) through CNNKit.",
        discussion: """
            --scale F gives floor(L·F) pixels per axis (ONNX Resize scales); --size WxH gives exactly W×H. \
            nearest, bilinear and bicubic (Keys a = -0.75) are ONNX Resize modes with the chosen --coordinates \
            (half-pixel = PyTorch align_corners=False and OpenCV; align-corners = PyTorch align_corners=True). \
            --antialias widens the bilinear/bicubic filter when shrinking (PIL, PyTorch antialias=True). \
            area is exact box averaging for integer factors: shrinking by k averages k×k blocks (average pooling, \
            kernel = stride = k; with --scale a remainder row/column is dropped), growing by k repeats each pixel.

            IN and OUT may be folders (\(BatchOptions.folderHelp)). Example: cnnkit resize photo.jpg big.jpg --scale 2 --mode bicubic
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg or .npy).")
    var input: String
    @Argument(help: "Output file or folder; the format follows the extension.")
    var output: String
    @Option(help: ArgumentHelp("Scale factor for both axes, > 0.", valueName: "factor"))
    var scale: Float?
    @Option(help: ArgumentHelp("Output size, e.g. 640x480.", valueName: "WxH"))
    var size: String?
    @Option(help: "nearest, bilinear, bicubic or area.")
    var mode: ResizeModeOption
    @Flag(help: "Antialias when shrinking with bilinear or bicubic.")
    var antialias = false
    @Option(help: "half-pixel, align-corners, asymmetric or pytorch-half-pixel.")
    var coordinates: CoordinatesOption = .halfPixel
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var batch: BatchOptions
    @OptionGroup var common: CommonOptions

    /// `WxH` → (W, H), both >= 1.
    static func parseSize(_ text: String) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width >= 1, height >= 1 else { return nil }
        return (width, height)
    }

    func run() throws {
        try runReportingErrors {
            guard (scale == nil) != (size == nil) else {
                throw CLIError("resize: give exactly one of --scale F or --size WxH (input \(input))")
            }
            var requested: (width: Int, height: Int)?
            if let scale {
                guard scale.isFinite, scale > 0 else {
                    throw CLIError("--scale \(String(format: "%g", scale)): expected a finite factor > 0 (input \(input))")
                }
            }
            if let size {
                guard let parsed = Self.parseSize(size) else {
                    throw CLIError("--size \(size): expected WxH with whole numbers W >= 1 and H >= 1, e.g. 640x480 (input \(input))")
                }
                requested = parsed
            }
            let backend = try common.prepare()
            try FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality).run { image, inputPath, outputPath, clock in
                let tensor = image.tensor
                let (result, used): (Tensor, String)
                if mode == .area {
                    let factors = try areaFactors(inputShape: tensor.shape, requested: requested, file: inputPath)
                    (result, used) = try clock.measure("resize") { try ImageOperations.area(tensor, factors: factors, backend: backend) }
                } else {
                    let target: ResizeTarget = requested.map { .sizes([$0.height, $0.width]) } ?? .scales([scale!, scale!])
                    let resizeMode: ResizeMode = mode == .nearest ? .nearest : mode == .bilinear ? .linear : .cubic
                    (result, used) = try clock.measure("resize") {
                        try ImageOperations.resize(
                            tensor, target: target, mode: resizeMode, coordinates: coordinates.transformation,
                            antialias: antialias, backend: backend)
                    }
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "the resized image")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }

    /// The integer (H, W) factors of `--mode area` for this input: `k` shrinks by k, `-u` grows by u.
    private func areaFactors(inputShape: [Int], requested: (width: Int, height: Int)?, file: String) throws -> [Int] {
        let (height, width) = (inputShape[2], inputShape[3])
        if let requested {
            guard let factors = ImageOperations.areaFactors(from: [height, width], to: [requested.height, requested.width]) else {
                throw CLIError(
                    "\(file): --mode area needs integer factors, but \(width)x\(height) → \(requested.width)x\(requested.height) is not (use bilinear or bicubic)")
            }
            return factors
        }
        let factor = Double(scale!)
        if factor <= 1 {
            let k = (1 / factor).rounded()
            guard abs(k * factor - 1) < 1e-6, k <= Double(min(height, width)) else {
                throw CLIError("\(file): --mode area --scale \(scale!) needs 1/scale to be a whole number up to the image size (use bilinear or bicubic)")
            }
            return [Int(k), Int(k)]
        }
        let u = factor.rounded()
        guard abs(u - factor) < 1e-6, u <= 65536 else {
            throw CLIError("\(file): --mode area --scale \(scale!) needs a whole-number factor (use bilinear or bicubic)")
        }
        return [-Int(u), -Int(u)]
    }
}
