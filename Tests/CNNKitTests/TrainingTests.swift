import CNNKit
import CNNKitNN
import Foundation
import Testing

/// The first `count` bundled digits (Sources/cnnkit/Resources/digits.csv), pixels / 16.
func bundledDigits(_ count: Int) throws -> LabelledImages {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/cnnkit/Resources/digits.csv")
    let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").prefix(count)
    var pixels: [Float] = [], labels: [Int] = []
    for row in rows {
        let fields = row.split(separator: ",").map { Float($0)! }
        pixels += fields.prefix(64).map { $0 / 16 }
        labels.append(Int(fields[64]))
    }
    return try LabelledImages(images: Tensor(shape: [labels.count, 1, 8, 8], scalars: pixels), labels: labels)
}

@Suite("Training layer")
struct TrainingTests {
    static func model(_ backend: String, seed: UInt64) throws -> Sequential {
        var generator = SplitMix64(seed: seed)
        let pool = PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2])
        return Sequential([
            try Convolution(weightShape: [8, 1, 3, 3], .init(pads: [1, 1, 1, 1]), backend: .named(backend), generator: &generator),
            ReLU(),
            Pooling(pool, backend: .named(backend)),
            try Convolution(weightShape: [10, 8, 4, 4], backend: .named(backend), generator: &generator),
        ])
    }

    /// 128 real digits, 6 epochs of batch 16: the mean training loss must fall from ln 10 ≈ 2.3 to below 0.5.
    @Test("loss falls on every backend", arguments: BackendRegistry.shared.names)
    func lossFalls(backend: String) throws {
        let data = try bundledDigits(128)
        let model = try Self.model(backend, seed: 7)
        let optimizer = SGD(learningRate: 0.05, momentum: 0.9)
        var generator = SplitMix64(seed: 3)
        var losses: [Double] = []
        for _ in 0..<6 {
            losses.append(try Trainer.epoch(model, on: data, batchSize: 16, optimizer: optimizer, generator: &generator).loss)
        }
        #expect(losses.first! > 1.5, "first epoch loss \(losses.first!)")
        #expect(losses.last! < 0.5, "losses \(losses)")
        #expect(try Trainer.accuracy(model, on: data) > 0.9)
    }

    @Test func softmaxCrossEntropyGradientIsSoftmaxMinusOneHot() throws {
        let logits = try Tensor(shape: [2, 3, 1, 1], scalars: [1, 2, 3, 0, 0, 0])
        let result = try SoftmaxCrossEntropy.evaluate(logits: logits, labels: [2, 0])
        let e = [exp(1.0), exp(2.0), exp(3.0)], total = e.reduce(0, +)
        #expect(abs(result.loss - (-log(e[2] / total) + log(3.0)) / 2) < 1e-9)
        #expect(abs(Double(result.gradient.scalars[2]) - (e[2] / total - 1) / 2) < 1e-6)
        #expect(abs(Double(result.gradient.scalars[3]) - (1.0 / 3 - 1) / 2) < 1e-6)
        #expect(result.correct == 2)  // ties take the first class, which is label 0 in row 2
        #expect(throws: CNNKitError.self) { try SoftmaxCrossEntropy.evaluate(logits: logits, labels: [3, 0]) }
    }

    @Test func splitAndBatchesAreSeededAndComplete() throws {
        let data = try bundledDigits(50)
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        let first = data.split(trainFraction: 0.8, generator: &a), second = data.split(trainFraction: 0.8, generator: &b)
        #expect(first.train.labels == second.train.labels && first.train.count == 40 && first.test.count == 10)
        let batches = first.train.batches(of: 16, generator: &a)
        #expect(batches.map(\.count) == [16, 16, 8])
        #expect(batches.flatMap(\.labels).sorted() == first.train.labels.sorted())
    }
}
