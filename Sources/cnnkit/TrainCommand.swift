import ArgumentParser
import CNNKit
import CNNKitImageIO
import CNNKitNN
import Foundation

/// `cnnkit train`: a small CNN learns the bundled UCI handwritten digits (8×8, 10 classes) by gradient descent.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a small CNN on the bundled handwritten digits (UCI, 1,797 8×8 images) and report test accuracy.",
        discussion: """
            The data set is split 80/20 (train/test) with the seed. The network: conv 3×3 1→16 (pad 1), ReLU, max \
            pool 2×2, conv 3×3 16→32 (pad 1), ReLU, max pool 2×2, and a classifier conv 2×2 32→10 over the whole \
            2×2 feature map; softmax cross-entropy, SGD with momentum 0.9, He-initialised weights. Every \
            convolution, pooling and gradient runs on the chosen backend. With --out, the learned first-layer \
            kernels and their feature maps on one test digit are written as a labelled PNG.
            """)

    @Option(help: ArgumentHelp("Backend: reference, c or auto.", valueName: "name"))
    var backend: String = "auto"

    @Option(parsing: .unconditional, help: "Passes over the training set, >= 1.")
    var epochs: Int = 12

    @Option(parsing: .unconditional, help: "Seed of the split, the initial weights and the batch order, 0…2^64-1.", transform: Seed.parse)
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Threads for backends that take a thread count, \(ThreadCount.range.lowerBound)…\(ThreadCount.range.upperBound).", valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Mini-batch size, >= 1.")
    var batchSize: Int = 32

    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "SGD learning rate, > 0.")
    var learningRate: Float = 0.05

    @Option(help: ArgumentHelp("Write the learned kernels and feature maps here (a folder).", valueName: "dir"))
    var out: String?

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
        if let threads { try usageError { () throws(CLIError) in try ThreadCount.check(threads, option: "--threads") } }
        try usageError { () throws(CLIError) in _ = try CommonOptions.selection(backend, option: "--backend") }
    }

    func run() throws {
        try runReportingErrors {
            try ThreadCount.apply(threads, option: "--threads")
            let selection = try CommonOptions.selection(backend, option: "--backend")
            if let out { try Self.createFolder(out) }  // before training: a bad --out fails at once
            let data = try Self.loadDigits()
            var generator = SplitMix64(seed: seed)
            let (train, test) = data.split(trainFraction: 0.8, generator: &generator)
            let model = try Self.model(backend: selection, generator: &generator)
            let optimizer = SGD(learningRate: learningRate, momentum: 0.9)
            Self.emit("training on \(train.count) digits, testing on \(test.count); backend \(backend), \(epochs) epochs, batch \(batchSize)\n")
            let start = Date()
            for epoch in 1...epochs {
                let began = Date()
                let label = "epoch \(String(repeating: " ", count: "\(epochs)".count - "\(epoch)".count))\(epoch)/\(epochs)"
                let result = try Trainer.epoch(model, on: train, batchSize: batchSize, optimizer: optimizer, generator: &generator) { done, total in
                    Self.progress(label, done, total)
                }
                let seconds = Date().timeIntervalSince(began)
                Self.progress(label, 1, 1, suffix: String(format: "  loss %.4f  train accuracy %.1f%%  %.2f s\n", result.loss, 100 * result.accuracy, seconds))
            }
            let accuracy = try Trainer.accuracy(model, on: test)
            Self.emit(String(format: "trained in %.1f s\n", Date().timeIntervalSince(start)))
            if let out { try Self.writeKernels(model, digit: test.subset([0]), folder: out) }
            Self.emit(String(format: "test accuracy: %.1f%%\n", 100 * accuracy))
        }
    }

    /// The digits as `[1797, 1, 8, 8]` in [0, 1] (pixel / 16) with their labels.
    static func loadDigits() throws -> LabelledImages {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "digits", withExtension: "csv")
        else { throw CLIError("the bundled digits.csv is missing from this build") }
        let text = try String(contentsOf: url, encoding: .utf8)
        var pixels: [Float] = [], labels: [Int] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let fields = line.split(separator: ",")
            guard fields.count == 65, let label = Int(fields[64]) else { throw CLIError("digits.csv: malformed row \(labels.count + 1)") }
            for field in fields.prefix(64) {
                guard let value = Float(field) else { throw CLIError("digits.csv: malformed value in row \(labels.count + 1)") }
                pixels.append(value / 16)
            }
            labels.append(label)
        }
        return try LabelledImages(images: Tensor(shape: [labels.count, 1, 8, 8], scalars: pixels), labels: labels)
    }

    static func model<G: RandomNumberGenerator>(backend: BackendSelection, generator: inout G) throws -> Sequential {
        let same = ConvolutionDescriptor(pads: [1, 1, 1, 1])
        let pool = PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2])
        return Sequential([
            try Convolution(weightShape: [16, 1, 3, 3], same, backend: backend, generator: &generator),
            ReLU(),
            Pooling(pool, backend: backend),
            try Convolution(weightShape: [32, 16, 3, 3], same, backend: backend, generator: &generator),
            ReLU(),
            Pooling(pool, backend: backend),
            try Convolution(weightShape: [10, 32, 2, 2], backend: backend, generator: &generator),
        ])
    }

    /// Whether standard output is a terminal (the bar is redrawn in place there; a log gets one line per epoch).
    static let interactive = isatty(STDOUT_FILENO) != 0

    /// One line per epoch, redrawn in place: `epoch  3/12 [##########----------]`, then its loss and accuracy.
    static func progress(_ label: String, _ done: Int, _ total: Int, suffix: String = "") {
        guard interactive || !suffix.isEmpty else { return }
        let width = 24, filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        emit("\(interactive ? "\r" : "")\(label) [\(bar)]\(suffix)")
    }

    /// Unbuffered output, so that the redrawn bar and the lines around it appear in order.
    static func emit(_ text: String) { Console.rawWrite(text, to: STDOUT_FILENO) }

    /// Creates the `--out` folder if needed.
    static func createFolder(_ folder: String) throws(CLIError) {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw CLIError("--out \(folder): cannot create the folder (\(describe(error, file: nil)))")
        }
    }

    /// The 16 learned 3×3 kernels (scaled up) and their feature maps on `digit`, as one labelled contact sheet.
    static func writeKernels(_ model: Sequential, digit: LabelledImages, folder: String) throws {
        guard let first = model.layers.first as? Convolution else { return }
        try createFolder(folder)
        let kernels = first.weight.value
        let features = try first.forward(digit.images, training: false)
        let count = kernels.shape[0], size = 48
        var tiles = [Float](), labels = [String]()
        // Each kernel and each feature map upsampled (nearest) to size×size so that a person can see them.
        func enlarge(_ values: ArraySlice<Float>, _ side: Int) -> [Float] {
            (0..<(size * size)).map { values[values.startIndex + ($0 / size * side / size) * side + ($0 % size * side / size)] }
        }
        for m in 0..<count {
            tiles += enlarge(kernels.scalars[(m * 9)..<(m * 9 + 9)], 3)
            labels.append("k\(m)")
        }
        for m in 0..<count {
            tiles += enlarge(features.scalars[(m * 64)..<(m * 64 + 64)], 8)
            labels.append("map\(m)")
        }
        tiles += enlarge(digit.images.scalars[0..<64], 8)
        labels.append("digit \(digit.labels[0])")
        let sheet = try ContactSheet.make(maps: try Tensor(shape: [1, labels.count, size, size], scalars: tiles), labels: labels)
        let path = (folder as NSString).appendingPathComponent("learned-kernels.png")
        try OutputGate.shared.write { try ImageIO.save(sheet, to: URL(fileURLWithPath: path)) }
        emit("wrote \(path): the 16 first-layer kernels, their feature maps on a test digit, and the digit\n")
    }
}
