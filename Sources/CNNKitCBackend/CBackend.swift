import CNNKitCore
internal import CKernels
import Foundation

/// The C backend: the kernels of the `CKernels` target (hand-written C with AVX-512 / AVX2 microkernels chosen at
/// run time, OpenMP threads, OpenBLAS `sgemm` where no microkernel of ours applies), registered as `"c"` ahead of
/// the reference backend. `CKernels/README.md` describes the kernels.
///
/// **Preparing.** A plan on this backend fixes the convolution algorithm, the instruction-set variant and the
/// tiling once; given weights at plan time (``ConvolutionPlan/init(_:inputShape:weightShape:biasShape:weight:bias:backend:registry:on:)``)
/// it packs them into the microkernel's register-tile panels (or Winograd-transforms them) once, and every run
/// reuses them. Without plan-time weights each run packs the weights it is given into its workspace.
///
/// **Threads.** ``threads`` OpenMP threads per call; the default is `CNNKIT_NUM_THREADS` if set, else the number of
/// active processors; small calls use fewer. Work is cut into blocks fixed by the problem, never by the thread
/// count, and every output element is computed by one thread in a fixed order, so results are bitwise identical
/// for any thread count.
///
/// **Instruction sets.** ``isa`` caps the kernel variants (`portable`, `avx2`, `avx512`); the default is the best
/// the CPU supports, or `CNNKIT_C_ISA` when set (for tests and benchmarks). The microkernels need no environment
/// variable for full speed.
///
/// **Declined problems** (the registry runs them on the next backend, the reference): a resize whose leading axes
/// (all but the last three) are not copied unchanged; a transposed convolution with more than 4 Mi column rows
/// (`M/group · Πkernel`); a Col2Im with more than three image axes; GEMM sizes beyond CBLAS's `int`; a forced
/// algorithm that does not apply to the problem.
public struct CBackend: Backend {
    /// How a convolution is computed; the cases other than ``automatic`` are the list in
    /// `CKernels/conv/ck_conv_algorithms.def`.
    public enum ConvolutionAlgorithm: String, Sendable, Hashable, CaseIterable {
        /// Pick per problem (``CBackend/chooseAlgorithm(for:)``).
        case automatic = "auto"
        /// Direct loops over stride-phase planes (`ck_conv_ncx_direct_f32`): depthwise and few-channel filters.
        case direct
        /// Tiled im2col + OpenBLAS `sgemm` (`ck_conv_ncx_im2col_gemm_f32`), workspace at most 16 MiB.
        case im2colGEMM = "im2col_gemm"
        /// OpenBLAS `sgemm` on the input itself (`ck_conv_ncx_gemm1x1_f32`): 1×1 kernel, stride 1, no padding only.
        case gemm1x1
        /// Packed weights × stride-phase planes of the input through register-tile microkernels
        /// (`ck_conv_ncx_implicit_gemm_f32`): no im2col buffer, bias and activation in the epilogue.
        case implicitGEMM = "implicit_gemm"
        /// Winograd F(4×4, 3×3) (`ck_conv_nchw_winograd_f32`): 2-D, 3×3, stride 1, dilation 1 only.
        case winograd
        /// FFT overlap-save tiles (`ck_conv_ncx_fft_f32`): 1-D and 2-D, any stride (computed at stride 1, then
        /// subsampled), dilation, groups, pads; dilated kernel extents up to 1024. Float32 rounding error grows with
        /// the transform size: about 1e-6 of the largest output (``CBackend/chooseAlgorithm(for:)``,
        /// `CKernels/README.md`). Declines 3-D problems.
        case fft
    }

    public let name = "c"
    /// OpenMP threads per call (≥ 1).
    public let threads: Int
    /// The convolution algorithm, or ``ConvolutionAlgorithm/automatic``.
    public let algorithm: ConvolutionAlgorithm
    /// The instruction-set cap (`CK_ISA_*`), already limited to what the CPU supports.
    let isaLevel: Int32

    /// - Parameters:
    ///   - threads: threads per call; `nil` takes ``defaultThreadCount``; values are clamped to 1…``maximumThreads``.
    ///   - algorithm: `nil` takes `CNNKIT_C_CONV_ALGORITHM` if it names one, else ``ConvolutionAlgorithm/automatic``.
    ///   - isa: `"portable"`, `"avx2"` or `"avx512"`, capped at what the CPU supports; `nil` takes `CNNKIT_C_ISA`
    ///     if it names one, else the best the CPU supports.
    public init(threads: Int? = nil, algorithm: ConvolutionAlgorithm? = nil, isa: String? = nil) {
        ck_blas_single_threaded()
        let environment = ProcessInfo.processInfo.environment
        self.threads = min(Self.maximumThreads, max(1, threads ?? Self.defaultThreadCount))
        self.algorithm = algorithm
            ?? environment["CNNKIT_C_CONV_ALGORITHM"].flatMap(ConvolutionAlgorithm.init(rawValue:))
            ?? .automatic
        let requested = (isa ?? environment["CNNKIT_C_ISA"]).flatMap { Self.allInstructionSets.firstIndex(of: $0) }
        self.isaLevel = ck_isa_resolve(Int32(requested ?? -1))
    }

    /// `CNNKIT_NUM_THREADS` when it is valid (``environmentThreadCount(_:)``), else the number of active processors.
    public static var defaultThreadCount: Int {
        if let value = try? environmentThreadCount() { return value }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The largest thread count `CNNKIT_NUM_THREADS` (and the `cnnkit` tool's `--threads`) accepts: far above the
    /// cores of any machine this backend targets, so a larger value is a typo.
    public static let maximumThreads = 1024

    /// `CNNKIT_NUM_THREADS` parsed (the one place that reads it): nil when unset or empty.
    /// - Throws: ``CNNKitError`` (`invalidArgument`, parameter `CNNKIT_NUM_THREADS`) when it is not a whole number
    ///   from 1 to ``maximumThreads``; ``defaultThreadCount`` then falls back on the number of active processors.
    public static func environmentThreadCount(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(CNNKitError) -> Int? {
        guard let text = environment["CNNKIT_NUM_THREADS"], !text.isEmpty else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...maximumThreads).contains(value) else {
            throw CNNKitError.invalidArgument(
                "CNNKIT_NUM_THREADS", value: text, expected: "a whole number of threads from 1 to \(maximumThreads) (or unset: every core)")
        }
        return value
    }

    /// Every instruction-set variant the kernels have, worst to best.
    public static let allInstructionSets: [String] = (0..<Int(CK_ISA_COUNT)).map { String(cString: ck_isa_name(Int32($0))) }

    /// The instruction set the kernels run with (`"portable"`, `"avx2"` or `"avx512"`).
    public var isa: String { String(cString: ck_isa_name(isaLevel)) }

    /// The best instruction set this CPU supports.
    public static var detectedInstructionSet: String { String(cString: ck_isa_name(ck_isa_detect())) }

    /// Turns a kernel status into an error: allocation failure is ``CNNKitError/Kind/outOfMemory``; anything
    /// else means the kernel rejected sizes Swift validated, which is a bug worth a clear message.
    func check(_ status: Int32, _ what: String) throws {
        switch status {
        case Int32(CK_OK): return
        case Int32(CK_ERR_NOMEM):
            throw CNNKitError(kind: .outOfMemory, parameter: "workspace", value: "\(what) on c",
                              expected: "enough free memory for the kernel's scratch buffers")
        default:
            throw CNNKitError(kind: .invalidArgument, parameter: "c kernel", value: "\(what) returned status \(status)",
                              expected: "sizes the C kernel accepts (please report this problem string)")
        }
    }
}

/// Largest extent CBLAS accepts (its sizes and leading dimensions are `int`).
let blasLimit = Int(Int32.max)

/// Spatial geometry padded to the kernels' three axes (d, h, w): leading unused axes get size 1.
func ckWindow(
    input: [Int], output: [Int], kernel: [Int], strides: [Int], dilations: [Int], padBegin: [Int]
) -> ck_window {
    func three(_ values: [Int], _ fill: Int) -> (Int64, Int64, Int64) {
        let v = Array(repeating: fill, count: 3 - values.count) + values
        return (Int64(v[0]), Int64(v[1]), Int64(v[2]))
    }
    return ck_window(
        in: three(input, 1), out: three(output, 1), kernel: three(kernel, 1), stride: three(strides, 1),
        dilation: three(dilations, 1), pad: three(padBegin, 0))
}

/// Runs `body` with the base addresses (nil when empty) and element counts of the arrays.
@inline(__always)
func withPointers<R>(
    _ a: [Float], _ b: inout [Float], _ body: (UnsafePointer<Float>?, Int64, UnsafeMutablePointer<Float>?, Int64) -> R
) -> R {
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeMutableBufferPointer { pb in body(pa.baseAddress, Int64(pa.count), pb.baseAddress, Int64(pb.count)) }
    }
}

@inline(__always)
func withOptional<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?, Int64) -> R) -> R {
    guard let tensor else { return body(nil, 0) }
    return tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress, Int64($0.count)) }
}

/// A prepared operator of this backend: the C work a run does, and what it reports.
struct CPrepared: PreparedWeightedOperator, PreparedUnaryOperator, PreparedPooling, PreparedMaxUnpool {
    let algorithm: String
    let workspaceBytes: Int
    var holdsWeights: Bool { held != nil }
    /// Plan-time weights and bias, when the kernel keeps no packed copy of its own (bias always lives here).
    let held: ConvolutionConstants?
    private let weighted: (@Sendable (Tensor, Tensor?, Tensor?, inout Tensor) throws -> Void)?
    private let unary: (@Sendable (Tensor, inout Tensor) throws -> Void)?
    private let pool: (@Sendable (Tensor, inout Tensor, inout IndexTensor?) throws -> Void)?
    private let unpool: (@Sendable (Tensor, IndexTensor, inout Tensor) throws -> Void)?

    init(algorithm: String, workspace: Int, held: ConvolutionConstants? = nil,
         weighted: @escaping @Sendable (Tensor, Tensor?, Tensor?, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes, self.held) = (algorithm, workspace, held)
        (self.weighted, unary, pool, unpool) = (weighted, nil, nil, nil)
    }
    init(algorithm: String, workspace: Int, unary: @escaping @Sendable (Tensor, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes, held) = (algorithm, workspace, nil)
        (weighted, self.unary, pool, unpool) = (nil, unary, nil, nil)
    }
    init(algorithm: String, workspace: Int, pool: @escaping @Sendable (Tensor, inout Tensor, inout IndexTensor?) throws -> Void) {
        (self.algorithm, workspaceBytes, held) = (algorithm, workspace, nil)
        (weighted, unary, self.pool, unpool) = (nil, nil, pool, nil)
    }
    init(algorithm: String, workspace: Int, unpool: @escaping @Sendable (Tensor, IndexTensor, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes, held) = (algorithm, workspace, nil)
        (weighted, unary, pool, self.unpool) = (nil, nil, nil, unpool)
    }

    // An empty output has nothing to compute: the kernels are not called (the extents of an empty tensor may be
    // beyond what their size checks take, e.g. a width of 0 and a height near Int.max).
    func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws {
        guard !output.scalars.isEmpty else { return }
        try weighted!(input, weight, weight == nil ? held?.bias : bias, &output)
    }
    func run(input: Tensor, output: inout Tensor) throws {
        guard !output.scalars.isEmpty else { return }
        try unary!(input, &output)
    }
    func run(input: Tensor, output: inout Tensor, indices: inout IndexTensor?) throws {
        guard !output.scalars.isEmpty else { return }
        try pool!(input, &output, &indices)
    }
    func run(input: Tensor, indices: IndexTensor, output: inout Tensor) throws {
        guard !output.scalars.isEmpty else { return }
        try unpool!(input, indices, &output)
    }
}

/// Owns a C plan object (packed weights, tables) and destroys it with the last prepared operator that uses it.
final class CPlanHandle: @unchecked Sendable {
    // @unchecked: the C plan is immutable after prepare and its run functions only read it (CKernels' contract).
    let pointer: OpaquePointer
    private let destroy: (OpaquePointer) -> Void
    init(_ pointer: OpaquePointer, destroy: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.destroy = destroy
    }
    deinit { destroy(pointer) }
}
