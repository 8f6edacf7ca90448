import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// `--mode` of `resize`.
enum ResizeModeOption: String, CaseIterable, ExpressibleByArgument {
    case nearest, nearestExact = "nearest-exact", bilinear, bicubic, area, box, hamming, lanczos
}

/// `--preset` of `resize`: reproduce another library's resize function.
enum ResizePresetOption: String, CaseIterable, ExpressibleByArgument {
    case opencv, pillow, pytorch, tensorflow
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
        abstract: "Resize an image (nearest, bilinear, bicubic, area, box, hamming, lanczos) through CNNKit.",
        discussion: """
            --scale F gives floor(L·F) pixels per axis (ONNX Resize scales); --size WxH gives exactly W×H. \
            Without --preset: nearest (nearest-exact rounds halves up), bilinear and bicubic (Keys a = -0.75) are \
            ONNX Resize modes with the chosen --coordinates (half-pixel = PyTorch align_corners=False and OpenCV; \
            align-corners = PyTorch align_corners=True); area is exact box coverage at any scale (OpenCV INTER_AREA, \
            TensorFlow area); box, hamming and lanczos (Lanczos-3) are Pillow's filters. --antialias widens the \
            filter when shrinking, ONNX style (taps clamped to the edge, bicubic a = -0.75): that is not Pillow's \
            or PyTorch's antialias; use a preset for those.

            --preset opencv|pillow|pytorch|tensorflow reproduces that library's function for --mode (opencv: \
            nearest, nearest-exact, bilinear, bicubic, area; pillow: nearest, box, bilinear, hamming, bicubic, \
            lanczos, always antialiased; pytorch: nearest, nearest-exact, bilinear, bicubic, with --antialias and \
            --coordinates align-corners; tensorflow: nearest, bilinear, bicubic, area, with --antialias). The \
            measured differences are in the Resampling article of the CNNKit documentation.

            IN and OUT may be folders (\(BatchOptions.folderHelp)). Example: cnnkit resize photo.jpg big.jpg --scale 2 --mode bicubic
            """)

    @Argument(help: "Input image or folder (.png, .jpg/.jpeg or .npy).")
    var input: String
    @Argument(help: "Output file or folder; the format follows the extension.")
    var output: String
    @Option(parsing: .unconditional, help: ArgumentHelp("Scale factor for both axes, > 0.", valueName: "factor"))
    var scale: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("Output size, e.g. 640x480.", valueName: "WxH"))
    var size: String?
    @Option(help: "nearest, nearest-exact, bilinear, bicubic, area, box, hamming or lanczos.")
    var mode: ResizeModeOption
    @Option(help: "opencv, pillow, pytorch or tensorflow: match that library's resize.")
    var preset: ResizePresetOption?
    @Flag(help: "Antialias when shrinking (filter modes; with --preset pytorch or tensorflow, the library's antialias).")
    var antialias = false
    @Option(help: "half-pixel (default), align-corners, asymmetric or pytorch-half-pixel.")
    var coordinates: CoordinatesOption?
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
            let target: ResizeTarget = requested.map { .sizes([$0.height, $0.width]) } ?? .scales([scale!, scale!])
            let descriptor = try resizeDescriptor(target: target)
            let backend = try common.prepare()
            try FileRunner(input: input, output: output, common: common, batch: batch, quality: outputOptions.quality).run { image, inputPath, outputPath, clock in
                let tensor = image.tensor
                let (result, used): (Tensor, String)
                // Library errors about the output size blame the option that set it.
                let given = scale.map { "--scale \(String(format: "%g", $0))" } ?? "--size \(size ?? "")"
                let blame = ["scales": given, "sizes": given, "output.shape": given]
                (result, used) = try clock.measure("resize") {
                    try blamingOptions(blame, file: inputPath) {
                        let plan = try ResizePlan(descriptor, inputShape: tensor.shape, backend: backend)
                        return (try plan.run(input: tensor), plan.backend)
                    }
                }
                clock.noteBackend(used)
                try requireNonEmpty(result, input: image, inputPath: inputPath, what: "the resized image")
                return OutputImage(tensor: result, normalize: outputOptions.normalize, npyRank: image.storedRank)
            }
        }
    }

    /// The descriptor of `--mode` with `--preset`, `--antialias` and `--coordinates`, on the H and W axes.
    func resizeDescriptor(target: ResizeTarget) throws -> ResizeDescriptor {
        let modeText = "--mode \(mode.rawValue)"
        guard let preset else {
            let resizeMode: ResizeMode
            switch mode {
            case .nearest, .nearestExact: resizeMode = .nearest
            case .bilinear: resizeMode = .linear
            case .bicubic: resizeMode = .cubic
            case .area: resizeMode = .area
            case .box: resizeMode = .box
            case .hamming: resizeMode = .hamming
            case .lanczos: resizeMode = .lanczos3
            }
            return ResizeDescriptor(
                target: target, mode: resizeMode, coordinateTransformation: (coordinates ?? .halfPixel).transformation,
                nearestMode: mode == .nearestExact ? .roundPreferCeil : .roundPreferFloor, antialias: antialias, axes: [2, 3])
        }
        let library = "--preset \(preset.rawValue)"
        func unsupported(_ modes: String) -> CLIError {
            CLIError("\(modeText) with \(library): expected one of \(modes)")
        }
        // Only PyTorch exposes the coordinate mapping (align_corners); the other presets fix it.
        if let coordinates, !(preset == .pytorch && (coordinates == .halfPixel || coordinates == .alignCorners)) {
            throw CLIError("--coordinates \(coordinates.rawValue) with \(library): expected no --coordinates"
                + (preset == .pytorch ? " or half-pixel / align-corners (align_corners=False / True)" : " (the preset fixes the mapping)"))
        }
        switch preset {
        case .opencv:
            if antialias { throw CLIError("--antialias with \(library): expected no --antialias (cv2.resize has none; use --mode area to shrink)") }
            let map: [ResizeModeOption: ResizeDescriptor.OpenCVInterpolation] = [
                .nearest: .nearest, .nearestExact: .nearestExact, .bilinear: .linear, .bicubic: .cubic, .area: .area]
            guard let interpolation = map[mode] else { throw unsupported("nearest, nearest-exact, bilinear, bicubic, area") }
            return .opencv(interpolation, target: target)
        case .pillow:
            if antialias { throw CLIError("--antialias with \(library): expected no --antialias (Pillow's filters always antialias)") }
            let map: [ResizeModeOption: ResizeDescriptor.PillowFilter] = [
                .nearest: .nearest, .box: .box, .bilinear: .bilinear, .hamming: .hamming, .bicubic: .bicubic, .lanczos: .lanczos]
            guard let filter = map[mode] else { throw unsupported("nearest, box, bilinear, hamming, bicubic, lanczos") }
            return .pillow(filter, target: target)
        case .pytorch:
            let map: [ResizeModeOption: ResizeDescriptor.PyTorchMode] = [
                .nearest: .nearest, .nearestExact: .nearestExact, .bilinear: .linear, .bicubic: .bicubic]
            guard let torchMode = map[mode] else { throw unsupported("nearest, nearest-exact, bilinear, bicubic") }
            do {
                return try .pytorch(torchMode, target: target, alignCorners: coordinates == .alignCorners, antialias: antialias)
            } catch {
                throw CLIError("\(modeText) with \(library)\(antialias ? " --antialias" : "")\(coordinates == .alignCorners ? " --coordinates align-corners" : ""): "
                    + "F.interpolate allows antialias and align_corners only with bilinear or bicubic, and not together")
            }
        case .tensorflow:
            let map: [ResizeModeOption: ResizeDescriptor.TensorFlowMethod] = [
                .nearest: .nearest, .bilinear: .bilinear, .bicubic: .bicubic, .area: .area]
            guard let method = map[mode] else { throw unsupported("nearest, bilinear, bicubic, area") }
            return .tensorflow(method, target: target, antialias: antialias)
        }
    }
}
