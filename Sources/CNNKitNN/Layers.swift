// A small training layer on top of CNNKit's primitives: layers that remember what their backward pass needs,
// a sequential model, softmax cross-entropy, SGD with momentum. The library below stays a set of primitives;
// this target only composes them (every convolution, pooling and their gradients run on a CNNKit backend).
import CNNKit
import Foundation

/// A learnable tensor and the gradient of the loss with respect to it.
public final class Parameter {
    public var value: Tensor
    /// dL/d(value) of the last backward pass (overwritten, not accumulated, by each).
    public var gradient: Tensor
    /// SGD momentum buffer.
    var velocity: [Float]

    public init(_ value: Tensor) {
        self.value = value
        var zero = value
        zero.scalars = [Float](repeating: 0, count: value.count)
        gradient = zero
        velocity = [Float](repeating: 0, count: value.count)
    }
}

/// One layer of a feed-forward network on NCHW tensors.
public protocol Layer: AnyObject {
    /// The output for `input`; `training` says whether ``backward(_:)`` will follow (layers keep what it needs).
    /// - Throws: ``CNNKitError`` from the operators.
    func forward(_ input: Tensor, training: Bool) throws -> Tensor
    /// dL/d(input) from dL/d(output) of the last training-mode forward; fills the parameters' gradients.
    /// - Throws: ``CNNKitError`` from the operators, or when no training-mode forward came first.
    func backward(_ outputGrad: Tensor) throws -> Tensor
    /// The learnable tensors (empty for ReLU and pooling).
    var parameters: [Parameter] { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
}

func noForward(_ layer: String) -> CNNKitError {
    CNNKitError.invalidArgument("backward", value: "\(layer) without a forward pass", expected: "forward(_:training: true) first")
}

/// A convolution layer (ONNX Conv): weight `[M, C/group, k…]` with He (Kaiming) normal initialisation
/// (std = √(2 / fan_in), fan_in = C/group · Πk, as PyTorch's `kaiming_normal_` for ReLU networks), bias `[M]` = 0.
public final class Convolution: Layer {
    public let descriptor: ConvolutionDescriptor
    public let weight: Parameter
    public let bias: Parameter
    public let backend: BackendSelection
    private var input: Tensor?
    private var plans: [[Int]: (forward: ConvolutionPlan, backward: ConvolutionBackwardPlan)] = [:]

    /// - Parameters:
    ///   - weightShape: `[M, C/group, k…]`.
    ///   - descriptor: strides, pads, dilations, group (its activation must be `.none`: use a ``ReLU`` layer).
    ///   - generator: the seeded source of the initial weights.
    public init<G: RandomNumberGenerator>(
        weightShape: [Int], _ descriptor: ConvolutionDescriptor = .init(), backend: BackendSelection = .automatic,
        generator: inout G
    ) throws {
        self.descriptor = descriptor
        self.backend = backend
        let fanIn = weightShape.dropFirst().reduce(1, *)
        let std = (2.0 / Double(max(1, fanIn))).squareRoot()
        let count = weightShape.reduce(1, *)
        weight = Parameter(try Tensor(shape: weightShape, scalars: (0..<count).map { _ in Float(std * normal(&generator)) }))
        bias = Parameter(try Tensor(shape: [weightShape[0]]))
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// The forward and backward plans for one input shape (a training loop sees one or two: full and last batch).
    private func plan(for shape: [Int]) throws -> (forward: ConvolutionPlan, backward: ConvolutionBackwardPlan) {
        if let cached = plans[shape] { return cached }
        let forward = try ConvolutionPlan(descriptor, inputShape: shape, weightShape: weight.value.shape,
                                          biasShape: bias.value.shape, backend: backend)
        let backward = try ConvolutionBackwardPlan(descriptor, inputShape: shape, weightShape: weight.value.shape,
                                                   biasShape: bias.value.shape, backend: backend)
        plans[shape] = (forward, backward)
        return (forward, backward)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        if training { self.input = input }
        return try plan(for: input.shape).forward.run(input: input, weight: weight.value, bias: bias.value)
    }

    public func backward(_ outputGrad: Tensor) throws -> Tensor {
        guard let input else { throw noForward("Convolution") }
        let grads = try plan(for: input.shape).backward.run(input: input, weight: weight.value, outputGrad: outputGrad)
        weight.gradient = grads.weight!
        bias.gradient = grads.bias!
        return grads.input!
    }
}

/// `max(x, 0)` element-wise; the gradient passes where the input was positive.
public final class ReLU: Layer {
    private var mask: [Bool] = []
    public init() {}

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var output = input
        if training { mask = input.scalars.map { $0 > 0 } }
        for i in output.scalars.indices where !(output.scalars[i] > 0) { output.scalars[i] = 0 }
        return output
    }

    public func backward(_ outputGrad: Tensor) throws -> Tensor {
        guard mask.count == outputGrad.count else { throw noForward("ReLU") }
        var grad = outputGrad
        for i in grad.scalars.indices where !mask[i] { grad.scalars[i] = 0 }
        return grad
    }
}

/// A pooling layer (ONNX MaxPool / AveragePool / …); its gradient is ``PoolingBackwardPlan``'s.
public final class Pooling: Layer {
    public let descriptor: PoolingDescriptor
    public let backend: BackendSelection
    private var input: Tensor?
    private var plans: [[Int]: (forward: PoolingPlan, backward: PoolingBackwardPlan)] = [:]

    public init(_ descriptor: PoolingDescriptor, backend: BackendSelection = .automatic) {
        self.descriptor = descriptor
        self.backend = backend
    }

    private func plan(for shape: [Int]) throws -> (forward: PoolingPlan, backward: PoolingBackwardPlan) {
        if let cached = plans[shape] { return cached }
        let forward = try PoolingPlan(descriptor, inputShape: shape, backend: backend)
        let backward = try PoolingBackwardPlan(descriptor, inputShape: shape, backend: backend)
        plans[shape] = (forward, backward)
        return (forward, backward)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        if training { self.input = input }
        return try plan(for: input.shape).forward.run(input: input)
    }

    public func backward(_ outputGrad: Tensor) throws -> Tensor {
        guard let input else { throw noForward("Pooling") }
        return try plan(for: input.shape).backward.run(input: input, outputGrad: outputGrad)
    }
}

/// Layers applied in order.
public final class Sequential {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        try layers.reduce(input) { try $1.forward($0, training: training) }
    }

    /// Backpropagates dL/d(output) through every layer, filling every parameter's gradient.
    @discardableResult
    public func backward(_ outputGrad: Tensor) throws -> Tensor {
        try layers.reversed().reduce(outputGrad) { try $1.backward($0) }
    }
}

/// A standard normal sample (Box–Muller) from `generator`.
func normal<G: RandomNumberGenerator>(_ generator: inout G) -> Double {
    let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
}
