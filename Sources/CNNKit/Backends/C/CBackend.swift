internal import CKernels
import Foundation

/// The C backend: the kernels of the `CKernels` target (portable C, OpenMP threads, OpenBLAS `sgemm`), registered
/// as `"c"` ahead of the reference backend. `CKernels/README.md` describes the kernels.
///
/// **Threads.** ``threads`` OpenMP threads per call; the default is `CNNKIT_NUM_THREADS` if set, else the number of
/// active processors; small calls use fewer. Work is cut into blocks fixed by the problem, never by the thread
/// count, and every output element is computed by one thread in a fixed order, so results are bitwise identical
/// for any thread count. OpenBLAS runs single-threaded inside the team (no oversubscription). To change the
/// registered instance: `BackendRegistry.shared.register(CBackend(threads: 1))`.
///
/// **Convolution algorithms** (``ConvolutionAlgorithm``): see ``chooseAlgorithm(for:)`` for the heuristic.
/// `CNNKIT_C_CONV_ALGORITHM=direct|im2col_gemm|gemm1x1` forces one for instances created without an explicit
/// algorithm (such as the registered one); a forced algorithm that cannot run a problem makes the backend decline it.
///
/// **Declined problems** (they run on the reference backend): a resize whose leading axes (all but the last three)
/// are not copied unchanged; a transposed convolution with more than 4 Mi column rows (`M/group · Πkernel`); a
/// Col2Im with more than three image axes; GEMM sizes beyond CBLAS's `int`; a forced algorithm that does not apply.
public struct CBackend: ConvolutionBackend, PoolingBackend, ResamplingBackend {
    /// How a convolution is computed.
    public enum ConvolutionAlgorithm: String, Sendable, Hashable, CaseIterable {
        /// Pick per problem (``CBackend/chooseAlgorithm(for:)``).
        case automatic = "auto"
        /// Direct loops (`ck_conv_ncx_direct_f32`): one output row block per work item.
        case direct
        /// Tiled im2col + `cblas_sgemm` (`ck_conv_ncx_im2col_gemm_f32`), workspace at most 16 MiB.
        case im2colGEMM = "im2col_gemm"
        /// `cblas_sgemm` on the input itself (`ck_conv_ncx_gemm1x1_f32`): 1×1 kernel, stride 1, no padding only.
        case gemm1x1
    }

    public let name = "c"
    /// OpenMP threads per call (≥ 1).
    public let threads: Int
    /// The convolution algorithm, or ``ConvolutionAlgorithm/automatic``.
    public let algorithm: ConvolutionAlgorithm

    /// - Parameters:
    ///   - threads: threads per call; `nil` takes ``defaultThreadCount``; values below 1 are raised to 1.
    ///   - algorithm: `nil` takes `CNNKIT_C_CONV_ALGORITHM` if it names one, else ``ConvolutionAlgorithm/automatic``.
    public init(threads: Int? = nil, algorithm: ConvolutionAlgorithm? = nil) {
        self.threads = max(1, threads ?? Self.defaultThreadCount)
        self.algorithm = algorithm
            ?? ProcessInfo.processInfo.environment["CNNKIT_C_CONV_ALGORITHM"].flatMap(ConvolutionAlgorithm.init(rawValue:))
            ?? .automatic
    }

    /// `CNNKIT_NUM_THREADS` when it is a positive integer, else the number of active processors.
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment["CNNKIT_NUM_THREADS"], let value = Int(text), value >= 1 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// An unexpected kernel status (an allocation failure; sizes were validated in Swift) reruns the operator on
    /// the reference backend rather than leaving the output unfilled.
    func check(_ status: Int32, _ what: String, fallback: () -> Void) {
        guard status != CK_OK else { return }
        if ProcessInfo.processInfo.environment["CNNKIT_VERBOSE"] == "1" {
            FileHandle.standardError.write(Data("cnnkit: c backend: \(what) returned status \(status); rerun on reference\n".utf8))
        }
        fallback()
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
