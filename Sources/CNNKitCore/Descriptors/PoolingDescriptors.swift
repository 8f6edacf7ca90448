/// What a pooling window reduces to.
public enum PoolingKind: Sendable, Hashable {
    /// Maximum (ONNX MaxPool-12). Padding never supplies values; a window holding NaN yields NaN; among tied
    /// maxima the first in row-major window order wins (its index is the one reported).
    case max
    /// Mean (ONNX AveragePool-19). `countIncludePad`: divide by the taps inside the input or the explicit padding
    /// (ONNX `count_include_pad = 1`, PyTorch `count_include_pad=True`); otherwise by the taps inside the input.
    case average(countIncludePad: Bool)
    /// `(Σ |x|^p)^(1/p)` over the taps inside the input (ONNX LpPool-18 with real `p > 0`; padding adds 0).
    case lp(p: Float)
    /// Stochastic pooling, training mode (Zeiler & Fergus, ICLR 2013): each window returns one of its elements,
    /// drawn with probability `max(a_i, 0) / Σ max(a_j, 0)` from a counter-based generator keyed by
    /// `(seed, flat window index)`, so every backend and thread count draws the same samples. A window whose
    /// weights sum to 0 (all elements ≤ 0, e.g. all zero) draws uniformly among its taps inside the input. A NaN in
    /// the window propagates (the first NaN and its index); a window with no tap inside the input gives 0, index −1.
    case stochastic(seed: UInt64)
    /// Stochastic pooling, inference mode: `Σ p_i·a_i` with `p_i = max(a_i, 0) / Σ max(a_j, 0)`; a window whose
    /// weights sum to 0 returns the plain mean of its taps inside the input. A NaN in the window propagates; a window
    /// with no tap inside the input gives 0.
    case stochasticExpectation
}

/// Memory order of MaxPool `Indices` (ONNX `storage_order`).
public enum StorageOrder: Int, Sendable, Hashable, CaseIterable {
    /// `((n·C + c)·H + h)·W + w` (ONNX `storage_order = 0`, PyTorch adds no n·C offset).
    case rowMajor = 0
    /// `(n·C + c)·H·W + h + w·H` (ONNX `storage_order = 1`; 2-D only).
    case columnMajor = 1
}

/// Attributes of a pooling operator (ONNX MaxPool-12, AveragePool-19, LpPool-18, Global*Pool-1, plus stochastic
/// pooling). Shapes: input `[N, C, spatial…]`, output `[N, C, out…]` with `out` from ``WindowGeometry``.
public struct PoolingDescriptor: Sendable, Hashable {
    public var kind: PoolingKind
    /// Window extent per spatial axis; ignored when `isGlobal`.
    public var kernelShape: [Int]
    /// `[]` = all 1.
    public var strides: [Int]
    /// `[begin…, end…]`, `[]` = 0; ignored unless `autoPad == .notSet`.
    public var pads: [Int]
    public var autoPad: AutoPad
    /// `[]` = all 1.
    public var dilations: [Int]
    /// Round output lengths up (ONNX `ceil_mode = 1`, PyTorch `ceil_mode=True`).
    public var ceilMode: Bool
    /// Order of the flat indices reported by max (and stochastic) pooling.
    public var storageOrder: StorageOrder
    /// Global pooling: one window covering every spatial position (ONNX GlobalMaxPool etc.).
    public var isGlobal: Bool

    public init(
        kind: PoolingKind, kernelShape: [Int], strides: [Int] = [], pads: [Int] = [], autoPad: AutoPad = .notSet,
        dilations: [Int] = [], ceilMode: Bool = false, storageOrder: StorageOrder = .rowMajor
    ) {
        self.kind = kind
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.autoPad = autoPad
        self.dilations = dilations
        self.ceilMode = ceilMode
        self.storageOrder = storageOrder
        self.isGlobal = false
    }

    /// Global pooling of `kind` over all spatial positions; output `[N, C, 1, …]`.
    public static func global(_ kind: PoolingKind) -> PoolingDescriptor {
        var descriptor = PoolingDescriptor(kind: kind, kernelShape: [])
        descriptor.isGlobal = true
        return descriptor
    }

    /// Whether this kind can report argmax indices (max and stochastic training).
    public var producesIndices: Bool {
        switch kind {
        case .max, .stochastic: return true
        default: return false
        }
    }
}

/// A validated pooling problem.
public struct PoolingProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: PoolingDescriptor
    public let batch: Int
    public let channels: Int
    public let geometry: WindowGeometry

    public var inputShape: [Int] { [batch, channels] + geometry.inputSize }
    public var outputShape: [Int] { [batch, channels] + geometry.outputSize }
    /// Window taps visited: `N·C·Π(out)·Π(k)` (`Int.max` when it does not fit).
    public var windowTaps: Int { saturatingProduct(outputShape + geometry.kernel) }

    /// - Throws: ``CNNKitError`` naming the parameter: input rank not 3–5, non-positive kernel/stride/dilation,
    ///   negative pads, a negative output length, `p` not finite and positive, column-major indices on a
    ///   non-2-D input, global pooling of a zero-length axis.
    public init(descriptor: PoolingDescriptor, inputShape: [Int]) throws {
        let problemText = provisionalWindowProblem(
            inputShape: inputShape, outputChannels: nil, kernel: descriptor.kernelShape, strides: descriptor.strides,
            pads: descriptor.pads, dilations: descriptor.dilations, suffix: "_\(descriptor.kind.canonicalName)")
        self.geometry = try quotingProblem(problemText) {
            try requireFeatureMap(inputShape, "input.shape")
            if case .lp(let p) = descriptor.kind, !(p.isFinite && p > 0) {
                throw CNNKitError.invalidArgument("p", value: "\(p)", expected: "a finite p > 0")
            }
            let spatial = Array(inputShape[2...])
            if descriptor.storageOrder == .columnMajor && spatial.count != 2 && descriptor.producesIndices {
                throw CNNKitError.invalidArgument(
                    "storage_order", value: "1 (column-major)", expected: "0 for a \(spatial.count)-D input (column-major is 2-D only)")
            }
            if descriptor.isGlobal {
                guard !spatial.contains(0) else {
                    throw CNNKitError.shapeMismatch(
                        "input.shape", value: "\(inputShape)", expected: "non-zero spatial extents for global pooling (output is 1 per axis)")
                }
                return try WindowGeometry.resolve(
                    inputSize: spatial, kernel: spatial, strides: [], dilations: [], pads: [], autoPad: .notSet, ceilMode: false)
            }
            // onnxruntime's rule: a pad as large as the window would allow windows with no input element.
            if descriptor.autoPad == .notSet, descriptor.pads.count == 2 * spatial.count,
               descriptor.kernelShape.count == spatial.count,
               let axis = spatial.indices.first(where: {
                   descriptor.pads[$0] >= descriptor.kernelShape[$0] || descriptor.pads[spatial.count + $0] >= descriptor.kernelShape[$0]
               }) {
                throw CNNKitError.invalidArgument(
                    "pads", value: "\(descriptor.pads)",
                    expected: "each pad smaller than the kernel on its axis (axis \(axis): kernel \(descriptor.kernelShape[axis]))")
            }
            return try WindowGeometry.resolve(
                inputSize: spatial, kernel: descriptor.kernelShape, strides: descriptor.strides,
                dilations: descriptor.dilations, pads: descriptor.pads, autoPad: descriptor.autoPad, ceilMode: descriptor.ceilMode)
        }
        self.descriptor = descriptor
        self.batch = inputShape[0]
        self.channels = inputShape[1]
    }

    /// Canonical problem string, e.g. `mb1ic64ih112iw112_oh56ow56kh3kw3_sh2sw2_ph1pw1_dh1dw1_max_ceil`.
    public var description: String {
        let g = geometry
        return "mb\(batch)ic\(channels)\(canonicalField("i", g.inputSize))_\(canonicalField("o", g.outputSize))"
            + "\(canonicalField("k", g.kernel))_\(canonicalField("s", g.strides))_\(canonicalPads(g.padBegin, g.padEnd))"
            + "_\(canonicalField("d", g.dilations))_\(descriptor.kind.canonicalName)"
            + (descriptor.ceilMode ? "_ceil" : "") + (descriptor.isGlobal ? "_global" : "")
    }
}

extension PoolingKind {
    /// Short name used in canonical problem strings: `max`, `avg`, `avgpad`, `lp2`, `stoch7`, `stochexp`.
    public var canonicalName: String {
        switch self {
        case .max: return "max"
        case .average(let includePad): return includePad ? "avgpad" : "avg"
        case .lp(let p): return "lp\(p == p.rounded() && abs(p) < 1e9 ? String(Int(p)) : String(p))"
        case .stochastic(let seed): return "stoch\(seed)"
        case .stochasticExpectation: return "stochexp"
        }
    }
}
