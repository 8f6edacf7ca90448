import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// `cnnkit demo`: filter, pool, resize and features on the bundled photo, on every registered backend.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run filter, pool, resize and features on the bundled photo and write the results to ./cnnkit-demo/.",
        discussion: """
            Every step runs once on every registered backend (or only on --backend NAME) and prints its wall time \
            per backend and, with several backends, the largest difference from the first. The images written come \
            from the first backend in dispatch order. Each step prints the equivalent cnnkit command.
            """)

    @OptionGroup var common: CommonOptions

    /// One demo step: the equivalent command line, the output file, the operation.
    struct Step {
        var command: String
        var file: String
        var normalize: Bool
        var operation: (Tensor, BackendSelection) throws -> Tensor
    }

    static let outputFolder = "cnnkit-demo"

    func run() throws {
        try runReportingErrors {
            _ = try common.prepare()
            let backends = common.backend == "auto" ? BackendRegistry.shared.names : [common.backend]
            guard let photo = BundledPhoto.path() else {
                throw CLIError("\(BundledPhoto.fileName): the bundled photo was not found next to the executable or in the source tree")
            }
            let image = try ImageIO.read(photo)
            let input = image.tensor
            let folder = Self.outputFolder
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw CLIError("\(folder): cannot create the output folder (\(error.localizedDescription))")
            }
            print("cnnkit demo on the bundled photo \(BundledPhoto.fileName): \(BundledPhoto.credit)")
            print("backends: \(backends.joined(separator: ", ")) (wall time of one run each; images from \(backends[0]))")
            print("")
            let inputPath = "\(folder)/0-input.png"
            try OutputGate.shared.write { try ImageIO.write(input, to: inputPath) }
            print("wrote \(inputPath)  \(Self.describe(input))")

            let featureBank = try Kernels.featureBank(Kernels.defaultFeatureBank)
            let steps: [Step] = [
                Step(command: "filter IN OUT --kernel sobel --normalize", file: "1-filter-sobel.png", normalize: true) { x, b in
                    try ImageOperations.filter(x, .sobelMagnitude, mode: .correlate, padding: .same, stride: 1, border: .reflect, backend: b).0
                },
                Step(command: "filter IN OUT --kernel gaussian:2", file: "2-filter-gaussian2.png", normalize: false) { x, b in
                    let kernel = try Kernels.builtin("gaussian:2", option: "--kernel")
                    return try ImageOperations.filter(
                        x, .perChannel(kernel), mode: .correlate, padding: .same, stride: 1, border: .reflect, backend: b).0
                },
                Step(command: "pool IN OUT --max --kernel 4", file: "3-pool-max4.png", normalize: false) { x, b in
                    try ImageOperations.pool(x, kind: .max, kernel: 4, stride: 4, padding: 0, ceil: false, backend: b).0
                },
                Step(command: "resize IN OUT --scale 2 --mode bicubic", file: "4-resize-bicubic-x2.png", normalize: false) { x, b in
                    try ImageOperations.resize(
                        x, target: .scales([2, 2]), mode: .cubic, coordinates: .halfPixel, antialias: false, backend: b).0
                },
                Step(command: "resize IN OUT --scale 0.25 --mode area", file: "5-resize-area-quarter.png", normalize: false) { x, b in
                    try ImageOperations.resize(
                        x, target: .scales([0.25, 0.25]), mode: .area, coordinates: .halfPixel, antialias: false, backend: b).0
                },
                Step(command: "features IN OUT", file: "6-features.png", normalize: false) { x, b in
                    var clock = StepClock()
                    let (maps, _) = try FeaturePipeline.run(x, bank: featureBank, pool: 2, backend: b, clock: &clock)
                    return try ContactSheet.make(maps: maps, labels: featureBank.map(\.label))
                },
            ]
            let nameWidth = backends.map(\.count).max()!
            for (index, step) in steps.enumerated() {
                let output = "\(folder)/\(step.file)"
                print("[\(index + 1)/\(steps.count)] cnnkit \(step.command.replacingOccurrences(of: "IN OUT", with: "\(BundledPhoto.fileName) \(step.file)"))")
                var first: Tensor?
                for name in backends {
                    var clock = StepClock()
                    let result = try clock.measure(name) { try step.operation(input, BackendSelection(name)) }
                    var line = "      \(name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(formatDuration(clock.steps[0].seconds).leftPadded(to: 9))"
                    if let first {
                        line += "   max |Δ| vs \(backends[0]): \(String(format: "%.2g", Self.maxDifference(first, result)))"
                    } else {
                        first = result
                    }
                    print(line)
                }
                try OutputGate.shared.write { try ImageIO.write(first!, to: output, normalize: step.normalize) }
                print("      wrote \(output)  \(Self.describe(first!))")
            }
            print("")
            print("Open the PNG files in \(folder)/ to see the results.")
        }
    }

    /// `451x300 RGB`.
    static func describe(_ tensor: Tensor) -> String {
        let channels = tensor.shape[1]
        return "\(tensor.shape[3])x\(tensor.shape[2]) \(channels == 1 ? "gray" : channels == 3 ? "RGB" : "\(channels) channels")"
    }

    /// The largest absolute difference between two tensors (infinity if their shapes differ).
    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
        guard a.shape == b.shape else { return .infinity }
        var worst = 0.0
        for (x, y) in zip(a.scalars, b.scalars) { worst = max(worst, Double(abs(x - y))) }
        return worst
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
