import CNNKit
import CNNKitTestSupport

/// The random source of one case: SplitMix64 keyed by (seed, case number), so that any case can be replayed alone
/// (`CNNKitFuzz --only <case>`).
struct Fuzz {
    var rng: SeededGenerator
    init(seed: UInt64, index: Int) {
        rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ (UInt64(index) &* 0xBF58_476D_1CE4_E5B9))
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0...options.count - 1)] }
    mutating func list(_ count: Int, _ range: ClosedRange<Int>) -> [Int] { (0..<count).map { _ in int(range) } }

    /// Extents and attributes an attacker would try: near Int.max, powers of two that overflow products, negatives.
    static let hostileInts: [Int] = [
        0, 0, 1, 1, 2, 3, -1, -2, Int.max, Int.max - 1, Int.min, Int.min + 1, 1 << 62, (1 << 62) + 1, 1 << 61,
        1 << 60, 1 << 40, (1 << 40) + 1, 1 << 31, (1 << 31) - 1, 1 << 32, 1 << 30, 1 << 20, (1 << 20) + 1,
        -(1 << 62), Int.max / 2, Int.max / 3, 65536, 4096,
    ]
    mutating func hostile() -> Int { pick(Self.hostileInts) }

    static let hostileFloats: [Float] = [
        .nan, -.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, -1, 1e30, 1e-30, 0x1p40, 0x1p-40, 0.5, 2, 1, 3, 1e-7,
    ]
    mutating func hostileFloat() -> Float { pick(Self.hostileFloats) }

    /// Replaces one element of `values` (or appends / drops one) by a hostile value.
    mutating func corrupt(_ values: inout [Int]) {
        switch int(0...9) {
        case 0: values.append(hostile())
        case 1: if !values.isEmpty { values.removeLast() }
        default:
            if values.isEmpty { values = [hostile()] } else { values[int(0...values.count - 1)] = hostile() }
        }
    }

    /// Uniform values in [-1, 1); with `specials`, now and then ±inf, NaN, ±0 and ties.
    mutating func values(_ count: Int, specials: Bool) -> [Float] {
        (0..<count).map { _ in
            if specials {
                if chance(0.03) { return pick([Float.infinity, -.infinity, .nan, -0.0, 0.0]) }
                if chance(0.4) { return Float(int(-3...3)) }
            }
            return Float.random(in: -1..<1, using: &rng)
        }
    }
}

/// What a run of one case on one backend gave.
enum Outcome {
    case output([Float], indices: [Int64]?)
    case error(CNNKitError)
    case foreign(String)
}

/// One generated case: its operator family, how outputs must agree, whether the generator made it invalid on
/// purpose (then every backend must throw), and how to run it on a backend.
struct FuzzCase {
    var family: String
    /// How outputs must agree; nil: only that every backend runs or throws a CNNKitError (ill-conditioned cases).
    var rule: CrossCheck.Rule?
    /// The generator broke a rule on purpose: validation must throw.
    var mustThrow: Bool
    var describe: () -> String
    var run: (_ backend: any Backend) -> Outcome
}

/// Runs `body`, turning what it throws into an ``Outcome``.
func outcome(_ body: () throws -> ([Float], [Int64]?)) -> Outcome {
    do {
        let (values, indices) = try body()
        return .output(values, indices: indices)
    } catch let error as CNNKitError {
        return .error(error)
    } catch {
        return .foreign("\(type(of: error)): \(error)")
    }
}

/// A tensor of `shape` with fuzz values, or the error the allocation throws (negative extents, overflow, budget).
func makeTensor(_ shape: [Int], _ fuzz: inout Fuzz, specials: Bool = false) throws -> Tensor {
    let count = try Tensor.elementCount(of: shape)
    try MemoryBudget.require(elements: count, of: Float.self, for: "fuzz input \(shape)")
    return try Tensor(shape: shape, scalars: fuzz.values(count, specials: specials))
}

enum Generators {
    static let families = ["conv", "convtranspose", "col2im", "pool", "resize", "pixelshuffle", "maxunpool", "pad", "adaptivepool"]

    static func make(_ fuzz: inout Fuzz, index: Int) -> FuzzCase {
        switch index % families.count {
        case 0: return convolution(&fuzz)
        case 1: return convTranspose(&fuzz)
        case 2: return col2im(&fuzz)
        case 3: return pooling(&fuzz)
        case 4: return resize(&fuzz)
        case 5: return pixelShuffle(&fuzz)
        case 6: return maxUnpool(&fuzz)
        case 7: return pad(&fuzz)
        default: return adaptivePooling(&fuzz)
        }
    }

    /// A case whose run replays the generator's random stream from `fuzz` (the same data on every backend).
    static func replaying(
        _ family: String, rule: CrossCheck.Rule?, mustThrow: Bool, _ fuzz: Fuzz, describe: @escaping () -> String,
        run: @escaping (any Backend, inout Fuzz) throws -> ([Float], [Int64]?)
    ) -> FuzzCase {
        FuzzCase(family: family, rule: rule, mustThrow: mustThrow, describe: describe, run: { backend in
            var replay = fuzz
            return outcome { try run(backend, &replay) }
        })
    }

    /// How a case is perturbed: left valid (mostly), broken on purpose, or given hostile values.
    enum Flavor { case plain, invalid, hostile }
    static func flavor(_ fuzz: inout Fuzz) -> Flavor {
        let u = fuzz.int(0...99)
        return u < 55 ? .plain : u < 75 ? .invalid : .hostile
    }

    /// Pads of `rank` axes: explicit (within `maximum`), or an automatic mode.
    static func padding(_ fuzz: inout Fuzz, rank: Int, maximum: Int) -> (AutoPad, [Int]) {
        switch fuzz.int(0...9) {
        case 0: return (.sameUpper, [])
        case 1: return (.sameLower, [])
        case 2: return (.valid, [])
        case 3: return (.notSet, [])
        default: return (.notSet, fuzz.list(2 * rank, 0...maximum))
        }
    }

    // MARK: Conv

    static func convolution(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        let group = fuzz.pick([1, 1, 1, 2, 3]), cg = fuzz.int(1...4), mg = fuzz.int(1...5)
        var input = [fuzz.chance(0.05) ? 0 : fuzz.int(1...2), group * cg] + fuzz.list(rank, 1...(rank == 3 ? 5 : 9))
        var weight = [group * mg, cg] + fuzz.list(rank, 1...3)
        var d = ConvolutionDescriptor(group: group, mode: fuzz.chance(0.25) ? .convolution : .crossCorrelation)
        d.strides = fuzz.chance(0.3) ? [] : fuzz.list(rank, 1...3)
        d.dilations = fuzz.chance(0.7) ? [] : fuzz.list(rank, 1...2)
        (d.autoPad, d.pads) = padding(&fuzz, rank: rank, maximum: 2)
        if fuzz.chance(0.2) { d.activation = fuzz.chance(0.5) ? .relu : .clamp(min: -0.5, max: 0.5) }
        if fuzz.chance(0.15) { d.border = fuzz.pick([.reflect, .symmetric, .edge, .wrap]) }
        var bias: [Int]? = fuzz.chance(0.5) ? [group * mg] : nil
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...8) {
            case 0: d.strides = Array(repeating: 1, count: rank); d.strides[fuzz.int(0...rank - 1)] = fuzz.pick([0, -1, Int.min])
            case 1: d.autoPad = .notSet; d.pads = Array(repeating: 0, count: 2 * rank); d.pads[fuzz.int(0...2 * rank - 1)] = fuzz.pick([-1, Int.min])
            case 2: d.group = fuzz.pick([0, -1, Int.min])
            case 3: d.dilations = Array(repeating: 1, count: rank); d.dilations[fuzz.int(0...rank - 1)] = fuzz.pick([0, -3])
            case 4: weight.append(1)
            case 5: weight[1] += 1
            case 6: bias = [group * mg + 1]
            case 7: d.activation = .clamp(min: fuzz.pick([.nan, 1]), max: fuzz.pick([.nan, 0]))
            default: d.kernelShape = weight.dropFirst(2).map { $0 + 1 }
            }
        case .hostile:
            switch fuzz.int(0...9) {
            case 0: input[0] = 0; for a in 2..<input.count { input[a] = fuzz.pick([1 << 31, 1 << 40, Int.max / 2]) }
            case 1: input[1] = 0; weight[1] = 0; weight[0] = fuzz.pick([0, 1, 2]); d.group = fuzz.pick([1 << 62, Int.max, 1 << 40]); bias = nil
            case 2: corrupt(&weight, &fuzz)
            case 3: corrupt(&input, &fuzz)
            case 4: fuzz.corrupt(&d.strides)
            case 5: fuzz.corrupt(&d.dilations)
            case 6: fuzz.corrupt(&d.pads); d.autoPad = .notSet
            case 7: d.group = fuzz.hostile()
            case 8: d.activation = .clamp(min: fuzz.hostileFloat(), max: fuzz.hostileFloat())
            default: input[1] = 0; weight[1] = 0; for a in 2..<weight.count { weight[a] = fuzz.pick([1 << 20, 1 << 30, 1 << 40]) }
                d.autoPad = fuzz.pick([.sameUpper, .valid, .notSet]); d.group = 1; bias = nil
            }
        }
        let packed = fuzz.chance(0.5)
        let data = fuzz
        let (inputShape, weightShape, biasShape, descriptor) = (input, weight, bias, d)
        return FuzzCase(
            family: "conv", rule: .tolerance(1e-4), mustThrow: mustThrow,
            describe: { "conv input \(inputShape) weight \(weightShape) bias \(String(describing: biasShape)) packed \(packed) \(descriptor)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let x = try makeTensor(inputShape, &fuzz), w = try makeTensor(weightShape, &fuzz)
                    let b = try biasShape.map { try makeTensor($0, &fuzz) }
                    if packed {
                        let plan = try ConvolutionPlan(descriptor, inputShape: inputShape, weightShape: weightShape,
                                                       biasShape: biasShape, weight: w, bias: b, on: backend)
                        return (try plan.run(input: x).scalars, nil)
                    }
                    let plan = try ConvolutionPlan(descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape, on: backend)
                    return (try plan.run(input: x, weight: w, bias: b).scalars, nil)
                }
            })
    }

    /// One hostile extent somewhere in a shape.
    static func corrupt(_ shape: inout [Int], _ fuzz: inout Fuzz) {
        if fuzz.chance(0.5), shape.count > 2 {
            // An empty tensor with huge extents elsewhere.
            shape[fuzz.int(0...1)] = 0
            shape[fuzz.int(2...shape.count - 1)] = fuzz.pick([1 << 31, 1 << 40, 1 << 62, Int.max])
        } else {
            fuzz.corrupt(&shape)
        }
    }

    // MARK: ConvTranspose

    static func convTranspose(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        let group = fuzz.pick([1, 1, 2, 3]), cg = fuzz.int(1...3), mg = fuzz.int(1...3)
        var input = [fuzz.int(1...2), group * cg] + fuzz.list(rank, 1...(rank == 3 ? 4 : 7))
        var weight = [group * cg, mg] + fuzz.list(rank, 1...3)
        var d = ConvTransposeDescriptor(strides: fuzz.list(rank, 1...3), dilations: fuzz.chance(0.3) ? fuzz.list(rank, 1...2) : [], group: group)
        switch fuzz.int(0...7) {
        case 0: d.autoPad = .sameUpper
        case 1: d.autoPad = .sameLower
        case 2: d.outputShape = zip(input.dropFirst(2), d.strides).map { $0 * $1 + fuzz.int(0...2) }
        default:
            d.pads = fuzz.list(2 * rank, 0...2)
            if fuzz.chance(0.3) { d.outputPadding = d.strides.map { fuzz.int(0...$0 - 1) } }
        }
        var bias: [Int]? = fuzz.chance(0.5) ? [group * mg] : nil
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...5) {
            case 0: d.strides[fuzz.int(0...rank - 1)] = fuzz.pick([0, -1])
            case 1: d.group = fuzz.pick([0, -2])
            case 2: weight[0] += 1
            case 3: bias = [group * mg + 2]
            case 4: d.outputPadding = Array(repeating: -1, count: rank)
            default: d.outputShape = Array(repeating: 1, count: rank + 1)
            }
        case .hostile:
            switch fuzz.int(0...7) {
            case 0: input[1] = 0; weight[0] = 0; d.group = fuzz.pick([1 << 62, (1 << 62) + 1, Int.max, 1 << 61]); weight[1] = fuzz.pick([1, 2, 4, 8]); bias = nil
            case 1: corrupt(&input, &fuzz)
            case 2: corrupt(&weight, &fuzz)
            case 3: fuzz.corrupt(&d.strides)
            case 4: fuzz.corrupt(&d.outputPadding)
            case 5: fuzz.corrupt(&d.outputShape)
            case 6: fuzz.corrupt(&d.pads); d.autoPad = .notSet; d.outputShape = []
            default: fuzz.corrupt(&d.dilations)
            }
        }
        let data = fuzz
        let (inputShape, weightShape, biasShape, descriptor) = (input, weight, bias, d)
        return FuzzCase(
            family: "convtranspose", rule: .tolerance(1e-4), mustThrow: mustThrow,
            describe: { "convtranspose input \(inputShape) weight \(weightShape) bias \(String(describing: biasShape)) \(descriptor)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let plan = try ConvTransposePlan(descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape, on: backend)
                    let x = try makeTensor(inputShape, &fuzz), w = try makeTensor(weightShape, &fuzz)
                    let b = try biasShape.map { try makeTensor($0, &fuzz) }
                    return (try plan.run(input: x, weight: w, bias: b).scalars, nil)
                }
            })
    }

    // MARK: Col2Im

    static func col2im(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        let image = fuzz.list(rank, 1...(rank == 3 ? 5 : 8))
        var d = Col2ImDescriptor(
            imageShape: image, blockShape: fuzz.list(rank, 1...3), strides: fuzz.list(rank, 1...2),
            pads: fuzz.chance(0.5) ? fuzz.list(2 * rank, 0...2) : [], dilations: fuzz.chance(0.3) ? fuzz.list(rank, 1...2) : [])
        let channels = fuzz.int(1...3)
        var input = [fuzz.int(1...2), channels, 1]
        if let g = try? WindowGeometry.resolve(
            inputSize: image, kernel: d.blockShape, strides: d.strides, dilations: d.dilations, pads: d.pads,
            autoPad: .notSet, ceilMode: false) {
            input = [input[0], channels * saturatingProduct(g.kernel), saturatingProduct(g.outputSize)]
        }
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...4) {
            case 0: d.strides[fuzz.int(0...rank - 1)] = 0
            case 1: d.blockShape.append(2)
            case 2: input[2] += 1
            case 3: input.append(1)
            default: d.imageShape[0] = -1
            }
        case .hostile:
            switch fuzz.int(0...5) {
            case 0: input = [fuzz.pick([1 << 62, Int.max, 1 << 40]), 0, input[2]]  // huge batch, zero channels
            case 1: fuzz.corrupt(&input)
            case 2: fuzz.corrupt(&d.imageShape)
            case 3: fuzz.corrupt(&d.blockShape)
            case 4: fuzz.corrupt(&d.strides)
            default: fuzz.corrupt(&d.pads)
            }
        }
        let data = fuzz
        let (inputShape, descriptor) = (input, d)
        return FuzzCase(
            family: "col2im", rule: .tolerance(1e-4), mustThrow: mustThrow,
            describe: { "col2im input \(inputShape) \(descriptor)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let plan = try Col2ImPlan(descriptor, inputShape: inputShape, on: backend)
                    return (try plan.run(input: try makeTensor(inputShape, &fuzz)).scalars, nil)
                }
            })
    }

    // MARK: Pooling

    static func pooling(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        var input = [fuzz.chance(0.04) ? 0 : fuzz.int(1...2), fuzz.int(1...3)] + fuzz.list(rank, 1...(rank == 3 ? 5 : 10))
        let kind: PoolingKind
        switch fuzz.int(0...5) {
        case 0: kind = .max
        case 1: kind = .average(countIncludePad: false)
        case 2: kind = .average(countIncludePad: true)
        case 3: kind = .lp(p: fuzz.pick([1, 2, 3, 0.5, 1.5]))
        case 4: kind = .stochastic(seed: UInt64(fuzz.int(0...1_000_000)))
        default: kind = .stochasticExpectation
        }
        var d: PoolingDescriptor
        if fuzz.chance(0.1) {
            d = .global(kind)
        } else {
            let kernel = fuzz.list(rank, 1...4)
            d = PoolingDescriptor(kind: kind, kernelShape: kernel, strides: fuzz.chance(0.2) ? [] : fuzz.list(rank, 1...3))
            d.dilations = fuzz.chance(0.25) ? fuzz.list(rank, 1...2) : []
            d.ceilMode = fuzz.chance(0.3)
            switch fuzz.int(0...9) {
            case 0: d.autoPad = .sameUpper
            case 1: d.autoPad = .sameLower
            case 2: d.autoPad = .valid
            default: d.pads = kernel.map { fuzz.int(0...max(0, $0 - 1)) } + kernel.map { fuzz.int(0...max(0, $0 - 1)) }
            }
        }
        if rank == 2 && fuzz.chance(0.3) { d.storageOrder = .columnMajor }
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid where !d.isGlobal:
            mustThrow = true
            switch fuzz.int(0...5) {
            case 0: d.kernelShape[0] = fuzz.pick([0, -1])
            case 1: d.strides = Array(repeating: 1, count: rank); d.strides[rank - 1] = 0
            case 2: d.kernelShape.append(1)
            case 3: d.autoPad = .notSet; d.pads = d.kernelShape + d.kernelShape  // pad as large as the kernel
            case 4: d.kind = .lp(p: fuzz.pick([0, -1, .nan, .infinity]))
            default: input = Array(input.prefix(2))
            }
        case .invalid:
            mustThrow = true
            input[2] = 0  // global pooling of an empty axis
        case .hostile:
            switch fuzz.int(0...7) {
            case 0:  // a huge kernel with SAME padding over a small input
                d.isGlobal = false
                d.kernelShape = (0..<rank).map { _ in fuzz.pick([1 << 20, 1 << 40, 1 << 60, Int.max / 4, 1 << 30]) }
                d.autoPad = fuzz.pick([.sameUpper, .sameLower]); d.pads = []
                d.strides = fuzz.chance(0.5) ? [] : (0..<rank).map { _ in fuzz.pick([1, 2, 1 << 40, Int.max]) }
            case 1: corrupt(&input, &fuzz)
            case 2: fuzz.corrupt(&d.kernelShape)
            case 3: fuzz.corrupt(&d.strides)
            case 4: fuzz.corrupt(&d.dilations)
            case 5: fuzz.corrupt(&d.pads); d.autoPad = .notSet
            case 6: d.kind = .lp(p: fuzz.hostileFloat())
            default:  // empty batch, huge spatial extents, huge kernel
                input[0] = 0
                for a in 2..<input.count { input[a] = fuzz.pick([1 << 31, 1 << 40]) }
                d.isGlobal = false
                d.kernelShape = (0..<rank).map { _ in fuzz.pick([1, 3, 1 << 40]) }
                d.autoPad = fuzz.pick([.sameUpper, .notSet, .valid]); d.pads = []
            }
        }
        let withIndices = d.producesIndices && fuzz.chance(0.6)
        let exact: Bool
        var rule: CrossCheck.Rule? = .tolerance(1e-4)
        switch d.kind {
        case .max, .stochastic: exact = true; rule = .exact
        case .lp(let p) where !(0.25...16).contains(p):
            // (Σ|x|^p)^(1/p) in float32 has a relative error of about ε/p (ε·p for large p): 20 % at p = 1e-7.
            // Such p are run (no crash, no trap) but not compared.
            exact = false; rule = nil
        default: exact = false
        }
        let data = fuzz
        let (inputShape, descriptor) = (input, d)
        return FuzzCase(
            family: "pool", rule: rule, mustThrow: mustThrow,
            describe: { "pool input \(inputShape) indices \(withIndices) \(descriptor)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let plan = try PoolingPlan(descriptor, inputShape: inputShape, on: backend)
                    let x = try makeTensor(inputShape, &fuzz, specials: exact)
                    if withIndices {
                        let (y, ix) = try plan.runWithIndices(input: x)
                        return (y.scalars, ix.scalars)
                    }
                    return (try plan.run(input: x).scalars, nil)
                }
            })
    }

    // MARK: Resize

    static func resize(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([3, 4, 4, 5])
        var shape = [fuzz.int(1...2), fuzz.int(1...3)] + fuzz.list(rank - 2, 1...(rank == 5 ? 4 : 8))
        if fuzz.chance(0.03) { shape[rank - 1] = 0 }
        let mode = fuzz.pick(ResizeMode.allCases)
        var d = ResizeDescriptor(
            target: .scales([]), mode: mode, coordinateTransformation: fuzz.pick(CoordinateTransformation.allCases),
            nearestMode: fuzz.pick(NearestMode.allCases), cubicCoefficientA: fuzz.pick([-0.75, -0.5, -0.6]),
            excludeOutside: fuzz.chance(0.25), antialias: mode != .nearest && fuzz.chance(0.3),
            extrapolationValue: fuzz.pick([0, -1, 7.5]))
        var axes = Array(2..<rank)
        if fuzz.chance(0.1) { axes = [1] + axes }
        if fuzz.chance(0.15) { axes = [axes.last!]; d.axes = [-1] } else if axes.first == 1 { d.axes = axes }
        var scales: [Float] = [], sizes: [Int] = []
        let useScales = fuzz.chance(0.5)
        if useScales {
            scales = axes.map { _ in fuzz.pick([Float(0.5), 0.6, 0.75, 1, 1.25, 1.7, 2, 3, 0.3]) }
            if d.axes.isEmpty { scales = [1, 1] + scales }
        } else {
            sizes = axes.map { shape[$0] == 0 ? 0 : fuzz.int(1...12) }
            d.keepAspectRatioPolicy = fuzz.pick(KeepAspectRatioPolicy.allCases)
            if d.keepAspectRatioPolicy != .stretch && d.axes.isEmpty { d.axes = axes }
            if d.axes.isEmpty { sizes = [shape[0], shape[1]] + sizes }
        }
        if d.coordinateTransformation == .tfCropAndResize {
            let count = d.axes.isEmpty ? rank : d.axes.count
            let starts = (0..<count).map { _ in Float(fuzz.int(-2...6)) / 10 }
            d.roi = starts + starts.map { $0 + Float(fuzz.int(2...9)) / 10 }
        }
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...5) {
            case 0: if useScales { scales[scales.count - 1] = fuzz.pick([0, -1, .nan, .infinity]) } else { sizes[sizes.count - 1] = -1 }
            case 1: if useScales { scales.append(1) } else { sizes.append(1) }
            case 2: d.axes = [0, 0]
            case 3: d.cubicCoefficientA = fuzz.pick([.nan, .infinity])
            case 4: d.roi = [0.1, .nan]
            default: shape = []
            }
        case .hostile:
            switch fuzz.int(0...6) {
            case 0:  // one huge scale and an empty axis: an empty output with a huge extent
                d.axes = []; d.keepAspectRatioPolicy = .stretch
                scales = Array(repeating: 1, count: rank); sizes = []
                shape[rank - 1] = 0
                scales[rank - 2] = fuzz.pick([0x1p20, 0x1p30, 0x1p40, 0x1p50, 0x1p60])
                d.roi = []
                if d.coordinateTransformation == .tfCropAndResize { d.coordinateTransformation = .asymmetric }
                return resizeCase(shape, d, scales: scales, sizes: nil, mustThrow: false, fuzz)
            case 1: if useScales { scales[scales.count - 1] = fuzz.hostileFloat() } else { fuzz.corrupt(&sizes) }
            case 2: corrupt(&shape, &fuzz)
            case 3: d.cubicCoefficientA = fuzz.hostileFloat(); d.extrapolationValue = fuzz.hostileFloat()
            case 4: if !d.roi.isEmpty { d.roi[fuzz.int(0...d.roi.count - 1)] = fuzz.hostileFloat() } else { d.roi = [fuzz.hostileFloat()] }
            case 5: fuzz.corrupt(&d.axes)
            default: if useScales { scales = scales.map { _ in fuzz.pick([Float(1e-30), 1e-7, 1, 0x1p-20]) } }
            }
        }
        return resizeCase(shape, d, scales: useScales ? scales : nil, sizes: useScales ? nil : sizes, mustThrow: mustThrow, fuzz)
    }

    static func resizeCase(_ shape: [Int], _ d: ResizeDescriptor, scales: [Float]?, sizes: [Int]?, mustThrow: Bool, _ data: Fuzz) -> FuzzCase {
        var descriptor = d
        descriptor.target = scales.map { .scales($0) } ?? .sizes(sizes ?? [])
        var rule: CrossCheck.Rule? = switch d.mode {
        case .nearest: .exact
        case .linear: .tolerance(1e-4)
        case .cubic, .area, .box, .hamming, .lanczos3: .tolerance(1e-3)
        }
        // Keys weights grow with |a| while they still sum to 1: with |a| = 1e30 the float32 tap weights cancel to
        // nothing (and overflow to ±inf near 3e38). Such filters are run but not compared.
        if d.mode == .cubic && !(abs(d.cubicCoefficientA) <= 4) { rule = nil }
        let target = descriptor
        return FuzzCase(
            family: "resize", rule: rule, mustThrow: mustThrow,
            describe: { "resize input \(shape) \(target)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let plan = try ResizePlan(target, inputShape: shape, on: backend)
                    return (try plan.run(input: try makeTensor(shape, &fuzz)).scalars, nil)
                }
            })
    }

    // MARK: DepthToSpace / SpaceToDepth

    static func pixelShuffle(_ fuzz: inout Fuzz) -> FuzzCase {
        let b = fuzz.int(1...4)
        let toSpace = fuzz.chance(0.5)
        var shape = toSpace
            ? [fuzz.int(0...2), fuzz.int(1...3) * b * b, fuzz.int(0...5), fuzz.int(1...5)]
            : [fuzz.int(1...2), fuzz.int(1...3), fuzz.int(0...4) * b, fuzz.int(1...4) * b]
        var d = PixelShuffleDescriptor(toSpace ? .depthToSpace : .spaceToDepth, blockSize: b, mode: fuzz.pick([.dcr, .crd]))
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...3) {
            case 0: d.blockSize = fuzz.pick([0, -1, Int.min])
            case 1: shape.append(1)
            case 2: d.blockSize = b + 1; shape = toSpace ? [1, (b + 1) * (b + 1) + 1, 2, 2] : [1, 1, b + 2, (b + 1) * 2 + 1]
            default: shape[3] = -1
            }
        case .hostile:
            switch fuzz.int(0...4) {
            case 0: shape = [1, fuzz.pick([1, 4]), fuzz.pick([1 << 40, 1 << 31, 1 << 62]), 0]  // zero width, huge height
                d = PixelShuffleDescriptor(.spaceToDepth, blockSize: 1, mode: d.mode)
            case 1: shape = [fuzz.pick([0, 1]), fuzz.pick([Int.max, 1 << 62, 1 << 61]), 0, fuzz.pick([2, 4])]
                d.blockSize = 2
            case 2: d.blockSize = fuzz.hostile()
            case 3: corrupt(&shape, &fuzz)
            default: shape = [0, fuzz.pick([4, 16]), fuzz.pick([1 << 40, Int.max / 2]), fuzz.pick([1 << 20, 1 << 40])]
            }
        }
        let (inputShape, descriptor) = (shape, d)
        return replaying("pixelshuffle", rule: .exact, mustThrow: mustThrow, fuzz,
                         describe: { "pixelshuffle input \(inputShape) \(descriptor)" }) { backend, fuzz in
            let plan = try PixelShufflePlan(descriptor, inputShape: inputShape, on: backend)
            return (try plan.run(input: try makeTensor(inputShape, &fuzz, specials: true)).scalars, nil)
        }
    }

    // MARK: MaxUnpool

    static func maxUnpool(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        let kernel = fuzz.list(rank, 1...3), strides = fuzz.list(rank, 1...3)
        let pads = fuzz.chance(0.3) ? kernel.map { fuzz.int(0...max(0, $0 - 1)) } + kernel.map { fuzz.int(0...max(0, $0 - 1)) } : []
        var shape = [fuzz.int(1...2), fuzz.int(1...3)] + fuzz.list(rank, 1...4)
        var d = MaxUnpoolDescriptor(kernelShape: kernel, strides: strides, pads: pads)
        if fuzz.chance(0.3), let base = try? MaxUnpoolProblem(descriptor: d, inputShape: shape) {
            d.outputShape = base.indexSpaceShape.dropFirst(2).map { $0 + fuzz.int(0...2) }
        }
        var mustThrow = false
        var badIndex: Int64? = nil
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...4) {
            case 0: d.kernelShape[0] = 0
            case 1: d.strides.append(1)
            case 2: d.outputShape = Array(repeating: 1, count: rank + 1)
            case 3: badIndex = fuzz.pick([-1, Int64.min, Int64.max, 1 << 40])
            default: d.pads = Array(repeating: -1, count: 2 * rank)
            }
        case .hostile:
            switch fuzz.int(0...4) {
            case 0: corrupt(&shape, &fuzz)
            case 1: fuzz.corrupt(&d.kernelShape)
            case 2: fuzz.corrupt(&d.strides)
            case 3: fuzz.corrupt(&d.outputShape)
            default: fuzz.corrupt(&d.pads)
            }
        }
        let anywhere = fuzz.chance(0.3)
        let data = fuzz
        let (inputShape, descriptor, bad) = (shape, d, badIndex)
        return FuzzCase(
            family: "maxunpool", rule: .exact, mustThrow: mustThrow,
            describe: { "maxunpool input \(inputShape) anywhere \(anywhere) bad index \(String(describing: bad)) \(descriptor)" },
            run: { backend in
                var fuzz = data
                return outcome {
                    let plan = try MaxUnpoolPlan(descriptor, inputShape: inputShape, on: backend)
                    let x = try makeTensor(inputShape, &fuzz, specials: true)
                    let space = plan.problem.indexSpaceShape
                    let limit = saturatingProduct(space)
                    let plane = saturatingProduct(space.dropFirst(2)), perPlane = max(1, saturatingProduct(inputShape.dropFirst(2)))
                    var indices = (0..<x.count).map { i -> Int64 in
                        guard limit > 0 else { return 0 }
                        if anywhere || plane == 0 { return Int64(fuzz.int(0...limit - 1)) }
                        return Int64((i / perPlane) * plane + fuzz.int(0...plane - 1))
                    }
                    if let bad, !indices.isEmpty { indices[fuzz.int(0...indices.count - 1)] = bad }
                    if bad != nil && indices.isEmpty { throw CNNKitError.invalidArgument("indices", value: "none", expected: "(fuzz: no element to corrupt)") }
                    let ix = try IndexTensor(shape: inputShape, scalars: indices)
                    return (try plan.run(input: x, indices: ix).scalars, nil)
                }
            })
    }

    // MARK: Pad

    static func pad(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.int(1...5)
        var shape = fuzz.list(rank, 1...5)
        if fuzz.chance(0.05) { shape[fuzz.int(0...rank - 1)] = 0 }
        var d = PadDescriptor(mode: fuzz.pick(BorderMode.allCases), pads: fuzz.list(2 * rank, -2...4),
                              constantValue: fuzz.chance(0.2) ? fuzz.hostileFloat() : 0)
        if fuzz.chance(0.3) {
            let axes = Array(Set(fuzz.list(fuzz.int(1...rank), 0...rank - 1))).sorted().map { fuzz.chance(0.3) ? $0 - rank : $0 }
            d.axes = axes
            d.pads = fuzz.list(2 * axes.count, -2...4)
        }
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...3) {
            case 0: d.pads.append(1)
            case 1: d.axes = [rank]
            case 2:  // a crop longer than the axis
                d.axes = nil
                d.pads = Array(repeating: 0, count: 2 * rank)
                d.pads[0] = -(shape[0] + 1)
            default: d.axes = [0, 0 - rank]
            }
        case .hostile:
            switch fuzz.int(0...3) {
            case 0: corrupt(&shape, &fuzz)
            case 1: fuzz.corrupt(&d.pads)
            case 2: d.pads[fuzz.int(0...d.pads.count - 1)] = fuzz.pick([1 << 40, 1 << 61, -(1 << 61), Int.max, Int.min])
            default: shape = [0, fuzz.pick([1 << 40, Int.max])] + Array(shape.dropFirst(2)); d.axes = nil
                d.pads = Array(repeating: 0, count: 2 * shape.count)
            }
        }
        let (inputShape, descriptor) = (shape, d)
        return replaying("pad", rule: .exact, mustThrow: mustThrow, fuzz, describe: { "pad input \(inputShape) \(descriptor)" }) { backend, fuzz in
            let plan = try PadPlan(descriptor, inputShape: inputShape, on: backend)
            return (try plan.run(input: try makeTensor(inputShape, &fuzz, specials: true)).scalars, nil)
        }
    }

    // MARK: Adaptive pooling

    static func adaptivePooling(_ fuzz: inout Fuzz) -> FuzzCase {
        let rank = fuzz.pick([1, 2, 2, 3])
        var shape = [fuzz.int(0...2), fuzz.int(1...3)] + fuzz.list(rank, 1...(rank == 3 ? 6 : 12))
        var d = AdaptivePoolingDescriptor(kind: fuzz.pick(AdaptivePoolingKind.allCases), outputSize: fuzz.list(rank, 1...8))
        var mustThrow = false
        switch flavor(&fuzz) {
        case .plain: break
        case .invalid:
            mustThrow = true
            switch fuzz.int(0...2) {
            case 0: d.outputSize[0] = fuzz.pick([0, -1, Int.min])
            case 1: d.outputSize.append(2)
            default: shape[2] = 0
            }
        case .hostile:
            switch fuzz.int(0...2) {
            case 0: corrupt(&shape, &fuzz)
            case 1: fuzz.corrupt(&d.outputSize)
            default: d.outputSize[0] = fuzz.pick([1 << 31, 1 << 40, Int.max / 2])
            }
        }
        let (inputShape, descriptor) = (shape, d)
        return replaying("adaptivepool", rule: d.kind == .max ? .exact : .tolerance(1e-4), mustThrow: mustThrow, fuzz,
                         describe: { "adaptivepool input \(inputShape) \(descriptor)" }) { backend, fuzz in
            let plan = try AdaptivePoolingPlan(descriptor, inputShape: inputShape, on: backend)
            let x = try makeTensor(inputShape, &fuzz, specials: true)
            guard descriptor.kind == .max else { return (try plan.run(input: x).scalars, nil) }
            let (y, indices) = try plan.runWithIndices(input: x)
            return (y.scalars, indices.scalars)
        }
    }
}
