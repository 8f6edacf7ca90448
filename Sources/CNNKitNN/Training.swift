import CNNKit
import Foundation

/// Softmax cross-entropy over classes: `logits` `[N, K]` or `[N, K, 1, …]` (a classifier convolution whose kernel
/// covers the whole feature map gives `[N, K, 1, 1]`), `labels` in `0..<K`.
public enum SoftmaxCrossEntropy {
    /// The mean loss over the batch, its gradient with respect to the logits (same shape, divided by N, as
    /// PyTorch's `cross_entropy` with mean reduction), and how many predictions (arg max) equal the label.
    /// - Throws: ``CNNKitError`` when the shapes or labels do not fit.
    public static func evaluate(logits: Tensor, labels: [Int]) throws -> (loss: Double, gradient: Tensor, correct: Int) {
        let n = logits.shape.first ?? 0
        guard logits.shape.count >= 2, logits.shape.dropFirst(2).allSatisfy({ $0 == 1 }), labels.count == n else {
            throw CNNKitError.shapeMismatch("logits.shape", value: "\(logits.shape) with \(labels.count) labels",
                                            expected: "[N, K] or [N, K, 1, …] with N labels")
        }
        let k = logits.shape[1]
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            throw CNNKitError.invalidArgument("labels", value: "\(bad)", expected: "class indices in 0..<\(k)")
        }
        var gradient = logits
        var loss = 0.0, correct = 0
        for i in 0..<n {
            let row = (0..<k).map { Double(logits.scalars[i * k + $0]) }
            let top = row.max() ?? 0
            let exps = row.map { exp($0 - top) }
            let total = exps.reduce(0, +)
            loss -= log(exps[labels[i]] / total)
            if row.firstIndex(of: top) == labels[i] { correct += 1 }
            for j in 0..<k {
                gradient.scalars[i * k + j] = Float((exps[j] / total - (j == labels[i] ? 1 : 0)) / Double(n))
            }
        }
        return (loss / Double(max(1, n)), gradient, correct)
    }
}

/// Stochastic gradient descent with momentum (PyTorch's `SGD(momentum:)`: v = μ·v + g, p = p − lr·v) and optional
/// L2 weight decay added to the gradient.
public final class SGD {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Updates every parameter from its gradient.
    public func step(_ parameters: [Parameter]) {
        for p in parameters {
            for i in p.value.scalars.indices {
                let g = p.gradient.scalars[i] + weightDecay * p.value.scalars[i]
                p.velocity[i] = momentum * p.velocity[i] + g
                p.value.scalars[i] -= learningRate * p.velocity[i]
            }
        }
    }
}

/// A labelled set of images `[N, C, H, W]`, split and batched reproducibly.
public struct LabelledImages: Sendable {
    public var images: Tensor
    public var labels: [Int]

    public init(images: Tensor, labels: [Int]) throws {
        guard images.shape.first == labels.count else {
            throw CNNKitError.shapeMismatch("labels", value: "\(labels.count) labels", expected: "one per image (\(images.shape.first ?? 0))")
        }
        self.images = images
        self.labels = labels
    }

    public var count: Int { labels.count }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabelledImages {
        let per = images.count / max(1, count)
        var scalars = [Float]()
        scalars.reserveCapacity(indices.count * per)
        for i in indices { scalars.append(contentsOf: images.scalars[(i * per)..<((i + 1) * per)]) }
        let shape = [indices.count] + images.shape.dropFirst()
        return try! LabelledImages(images: Tensor(shape: shape, scalars: scalars), labels: indices.map { labels[$0] })
    }

    /// A seeded shuffle split: the first `fraction` of a permutation trains, the rest tests.
    public func split<G: RandomNumberGenerator>(trainFraction fraction: Double, generator: inout G) -> (train: LabelledImages, test: LabelledImages) {
        let order = Array(0..<count).shuffled(using: &generator)
        let cut = Int((Double(count) * fraction).rounded())
        return (subset(Array(order[..<cut])), subset(Array(order[cut...])))
    }

    /// Mini-batches of `size` (the last may be smaller) in a seeded random order.
    public func batches<G: RandomNumberGenerator>(of size: Int, generator: inout G) -> [LabelledImages] {
        let order = Array(0..<count).shuffled(using: &generator)
        return stride(from: 0, to: count, by: max(1, size)).map { subset(Array(order[$0..<min(count, $0 + size)])) }
    }
}

/// The SplitMix64 generator: small, fast and reproducible on every platform (the seed fixes every run).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One pass over a data set: forward, loss, backward and an optimiser step per mini-batch.
public enum Trainer {
    /// Trains `model` for one epoch on `data` in seeded random mini-batches of `batchSize`; `progress` is called
    /// after each batch with (batches done, batches in all).
    /// - Returns: the mean loss over the samples and the fraction the model classified right while training.
    /// - Throws: ``CNNKitError`` from the operators.
    public static func epoch<G: RandomNumberGenerator>(
        _ model: Sequential, on data: LabelledImages, batchSize: Int, optimizer: SGD, generator: inout G,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> (loss: Double, accuracy: Double) {
        let batches = data.batches(of: batchSize, generator: &generator)
        var loss = 0.0, correct = 0
        for (index, batch) in batches.enumerated() {
            let logits = try model.forward(batch.images, training: true)
            let result = try SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.labels)
            try model.backward(result.gradient)
            optimizer.step(model.parameters)
            loss += result.loss * Double(batch.count)
            correct += result.correct
            progress(index + 1, batches.count)
        }
        return (loss / Double(max(1, data.count)), Double(correct) / Double(max(1, data.count)))
    }

    /// The fraction of `data` that `model` classifies right (inference mode, batches of `batchSize`).
    /// - Throws: ``CNNKitError`` from the operators.
    public static func accuracy(_ model: Sequential, on data: LabelledImages, batchSize: Int = 256) throws -> Double {
        var correct = 0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = data.subset(Array(start..<min(data.count, start + batchSize)))
            let logits = try model.forward(batch.images, training: false)
            correct += try SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.labels).correct
        }
        return Double(correct) / Double(max(1, data.count))
    }
}
