import Foundation
import Testing
import CNNKit

/// Regression tests for every class of failure of the hostile run in issue 13: shape arithmetic that trapped,
/// loops over the extents of empty tensors that hung, allocations that aborted, and errors that blamed the wrong
/// parameter. Each runs on every registered backend through plans (the C backend declines what it cannot take
/// and the reference runs it), and must finish at once: nothing here does work proportional to a huge extent.
@Suite("Robustness: hostile descriptors and shapes")
struct RobustnessTests {
    /// Runs `body`, which must throw a CNNKitError of `kind` naming `parameter`.
    func expectKind(_ kind: CNNKitError.Kind, parameter: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a CNNKitError (\(kind)), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as CNNKitError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            if let parameter { #expect(error.parameter == parameter, "\(error)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("expected a CNNKitError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// How a test reaches `backend`: the reference by name; any other backend through automatic dispatch, which
    /// tries it first and lets it decline (the C backend declines windows and pads far larger than the data, and
    /// geometry beyond its ±2^60 coordinates) so that the reference runs what it will not.
    func selection(_ backend: String) -> BackendSelection { backend == "reference" ? "reference" : .automatic }

    /// Fails when `body` takes longer than `seconds` (a loop over a huge empty extent would take hours).
    func quickly<T>(_ seconds: Double = 5, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        let result = try body()
        #expect(Date().timeIntervalSince(start) < seconds, "took \(Date().timeIntervalSince(start)) s", sourceLocation: sourceLocation)
        return result
    }

    // MARK: Shape arithmetic that trapped

    @Test(arguments: allBackends) func convTransposeGroupNear2To62(backend: String) {
        for group in [1 << 62, (1 << 62) + 1, Int.max] {
            expectKind(.overflow, parameter: "group") {
                _ = try ConvTransposePlan(ConvTransposeDescriptor(group: group), inputShape: [1, 0, 4, 4], weightShape: [0, 4, 3, 3],
                                          backend: selection(backend))
            }
        }
        // Conv with no channels accepts any group (it divides 0) and still neither traps nor loops.
        let y = quickly {
            try? convolution(try! Tensor(shape: [1 << 40, 0, 3, 3]), weight: try! Tensor(shape: [0, 0, 3, 3]),
                             ConvolutionDescriptor(group: 1 << 62), backend: selection(backend))
        }
        #expect(y?.count == 0)
    }

    @Test func emptyTensorWithHugeExtentsIsEmpty() throws {
        // The products of the extents overflow, but a 0 makes the tensor empty before any product is formed.
        #expect(try Tensor.elementCount(of: [1 << 31, 1 << 40, 0]) == 0)
        #expect(try Tensor.elementCount(of: [0, 1 << 62, 1 << 62, 1 << 62]) == 0)
        let t = try Tensor(shape: [0, 2, 1 << 31, 1 << 40])
        #expect(t.count == 0)
        #expect(t.strides.count == 4)  // saturates instead of trapping
        expectKind(.overflow, parameter: "shape") { _ = try Tensor.elementCount(of: [1 << 31, 1 << 40]) }
    }

    @Test(arguments: allBackends) func emptyBatchHugeSpatialExtents(backend: String) throws {
        let b = selection(backend)
        let input = [0, 3, 1 << 31, 1 << 40]
        let x = try Tensor(shape: input)
        let pooled = try quickly { try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [3, 3], autoPad: .sameUpper), backend: b) }
        #expect(pooled.count == 0 && pooled.shape == [0, 3, 1 << 31, 1 << 40])
        let average = try quickly { try pooling(x, PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [2, 2], strides: [2, 2]), backend: b) }
        #expect(average.count == 0)
        let conv = try quickly { try convolution(x, weight: Tensor(shape: [4, 3, 3, 3]), ConvolutionDescriptor(autoPad: .sameLower), backend: b) }
        #expect(conv.shape == [0, 4, 1 << 31, 1 << 40])
        let problem = try ConvolutionProblem(descriptor: .init(), inputShape: input, weightShape: [4, 3, 3, 3])
        #expect(problem.multiplyAccumulates == 0)
        let transposed = try quickly { try convTranspose(x, weight: Tensor(shape: [3, 2, 2, 2]), ConvTransposeDescriptor(strides: [2, 2]), backend: b) }
        #expect(transposed.count == 0)
    }

    @Test(arguments: allBackends) func hugeKernelSamePooling(backend: String) throws {
        // A kernel of 2^40 with SAME padding over 5×5: every window covers the whole plane.
        let x = try integerTensor([1, 2, 5, 5], seed: 13)
        for kind in [PoolingKind.max, .average(countIncludePad: false), .lp(p: 2), .stochasticExpectation] {
            for kernel in [1 << 20, 1 << 40, 1 << 60] {
                let d = PoolingDescriptor(kind: kind, kernelShape: [kernel, kernel], autoPad: .sameUpper)
                let y = try quickly { try pooling(x, d, backend: selection(backend)) }
                let global = try pooling(x, .global(kind), backend: "reference")
                for plane in 0..<2 {
                    for i in 0..<25 {
                        #expect(abs(y.scalars[plane * 25 + i] - global.scalars[plane]) <= 1e-4 * max(1, abs(global.scalars[plane])),
                                "\(kind) kernel \(kernel)")
                    }
                }
            }
        }
        // A dilation of 2^32 with SAME padding is the same kind of window.
        let d = PoolingDescriptor(kind: .max, kernelShape: [1, 2], autoPad: .sameLower, dilations: [1, 1 << 32])
        _ = try quickly { try pooling(x, d, backend: selection(backend)) }
    }

    @Test(arguments: allBackends) func convolutionHugeDilationOrStride(backend: String) throws {
        let x = try integerTensor([1, 2, 4, 5], seed: 3), w = try integerTensor([3, 2, 3, 2], seed: 4)
        for d in [ConvolutionDescriptor(autoPad: .sameUpper, dilations: [1 << 32, 2]),
                  ConvolutionDescriptor(strides: [1 << 31, 1], pads: [1 << 40, 0, 1 << 40, 0])] {
            let y = try quickly { try convolution(x, weight: w, d, backend: selection(backend)) }
            let expected = try convolution(x, weight: w, d, backend: "reference")
            #expect(y.scalars == expected.scalars)
        }
    }

    @Test func overflowingSumsAreErrors() {
        // Lengths near Int.max (in an empty tensor) plus pads or dilated kernels.
        expectKind(.overflow) {
            _ = try PoolingProblem(descriptor: PoolingDescriptor(kind: .max, kernelShape: [1 << 41], pads: [1 << 40, 1 << 40]),
                                   inputShape: [0, 1, Int.max - 1])
        }
        expectKind(.overflow, parameter: "strides") {
            _ = try MaxUnpoolProblem(descriptor: MaxUnpoolDescriptor(kernelShape: [2], strides: [1 << 30]), inputShape: [0, 1, 1 << 62])
        }
        expectKind(.overflow, parameter: "blocksize") {
            _ = try PixelShuffleProblem(descriptor: PixelShuffleDescriptor(.spaceToDepth, blockSize: 4), inputShape: [1, 1 << 62, 0, 4])
        }
    }

    @Test func errorsNameTheParameterActuallyWrong() {
        // A kernel of 2^62 with no dilation blames kernel_shape, not "dilations = 1".
        expectKind(.overflow, parameter: "kernel_shape") {
            _ = try PoolingProblem(descriptor: PoolingDescriptor(kind: .max, kernelShape: [1 << 62, 2]), inputShape: [1, 1, 4, 4])
        }
        expectKind(.overflow, parameter: "dilations") {
            _ = try PoolingProblem(descriptor: PoolingDescriptor(kind: .max, kernelShape: [3, 2], dilations: [1 << 62, 1]), inputShape: [1, 1, 4, 4])
        }
    }

    // MARK: Loops over empty extents that hung

    @Test(arguments: allBackends) func noLoopOverEmptyExtents(backend: String) throws {
        let b = selection(backend)
        // SpaceToDepth of a zero-width input with 2^40 rows.
        let s2d = try quickly { try pixelShuffle(Tensor(shape: [1, 1, 1 << 40, 0]), PixelShuffleDescriptor(.spaceToDepth, blockSize: 1), backend: b) }
        #expect(s2d.count == 0)
        let d2s = try quickly { try pixelShuffle(Tensor(shape: [0, 4, 1 << 40, 1 << 20]), PixelShuffleDescriptor(.depthToSpace, blockSize: 2), backend: b) }
        #expect(d2s.count == 0)
        // Col2Im with a batch of 2^62 and zero channels.
        let col = try quickly { try col2im(Tensor(shape: [1 << 62, 0, 9]), Col2ImDescriptor(imageShape: [3, 3], blockShape: [1, 1]), backend: b) }
        #expect(col.shape == [1 << 62, 0, 3, 3])
        // A loop over 2^62 empty planes.
        let planes = try quickly { try pooling(Tensor(shape: [1 << 31, 1 << 31, 0]), PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [1]), backend: b) }
        #expect(planes.count == 0)
        // Col2Im without blocks (a block longer than the image): an all-zero image, whatever the block size.
        let zeros = try quickly { try col2im(Tensor(shape: [2, 1 << 20, 0]), Col2ImDescriptor(imageShape: [(1 << 20) - 1], blockShape: [1 << 20]), backend: b) }
        #expect(zeros.shape == [2, 1, (1 << 20) - 1] && zeros.scalars.allSatisfy { $0 == 0 })
        // A convolution with no input channels (an empty weight with a huge kernel): every output is the bias.
        let bias = try Tensor(shape: [2], scalars: [1.5, -2])
        let conv = try quickly {
            try convolution(Tensor(shape: [1, 0, 3, 3]), weight: Tensor(shape: [2, 0, 1 << 20, 1 << 20]), bias: bias,
                            ConvolutionDescriptor(pads: [1 << 19, 1 << 19, 1 << 19, 1 << 19]), backend: b)
        }
        #expect(conv.shape == [1, 2, 4, 4])
        #expect(conv.scalars == Array(repeating: 1.5, count: 16) + Array(repeating: -2, count: 16))
    }

    // MARK: Allocations that aborted

    @Test(arguments: allBackends) func hugeScaleWithEmptyOutput(backend: String) throws {
        // One huge scale, an empty output: no tap tables, no allocation.
        let y = try quickly {
            try resize(Tensor(shape: [1, 1, 4, 0]), ResizeDescriptor(target: .scales([1, 1, 0x1p40, 2]), mode: .linear), backend: selection(backend))
        }
        #expect(y.shape == [1, 1, 1 << 42, 0])
    }

    @Test func memoryBudgetRefusesWhatDoesNotFit() throws {
        // The default budget is MemAvailable: far more than it is refused with the numbers in the message.
        do {
            try MemoryBudget.require(Int.max / 2, for: "a test request")
            Issue.record("expected outOfMemory")
        } catch let error as CNNKitError {
            #expect(error.kind == .outOfMemory && error.parameter == "memory")
            #expect(error.value.contains("\(Int.max / 2) bytes needed") && error.expected.contains("available"), "\(error)")
        }
        #expect(MemoryBudget.systemAvailable() > 0)
        try MemoryBudget.require(1 << 20, for: "a small request")
    }

    @Test func outputsAboveTheBudgetThrow() throws {
        // 40000×40000 of a 32×32 image: 19 GB, under physical memory on big machines; over a 1 GiB budget here.
        // (One test sets the process-wide limit, above any other test's single request, so tests running at the
        // same time are not affected; the backends are visited in turn.)
        MemoryBudget.limit = 1 << 30
        defer { MemoryBudget.limit = nil }
        let x = try Tensor(shape: [1, 3, 32, 32])
        for backend in allBackends {
            expectKind(.outOfMemory, parameter: "memory") {
                _ = try resize(x, ResizeDescriptor(target: .sizes([40000, 40000]), axes: [2, 3]), backend: selection(backend))
            }
            expectKind(.outOfMemory, parameter: "memory") {
                _ = try ResizePlan(ResizeDescriptor(target: .scales([1, 1, 0x1p9, 0x1p9]), mode: .cubic), inputShape: [1, 3, 32, 32],
                                   backend: selection(backend)).run(input: x)
            }
            // Below the budget it runs.
            _ = try resize(x, ResizeDescriptor(target: .sizes([64, 64]), axes: [2, 3]), backend: selection(backend))
        }
        expectKind(.outOfMemory, parameter: "memory") { _ = try Tensor(shape: [1 << 30, 2]) }
    }

    // MARK: Environment

    @Test func threadCountEnvironmentVariableIsValidated() {
        // Issue 13: CNNKIT_NUM_THREADS=-5 or =lots was silently ignored; the parser now names the value and range.
        for bad in ["-5", "lots", "0", "1025", "2x", "1099511627776"] {
            do {
                _ = try CBackend.environmentThreadCount(["CNNKIT_NUM_THREADS": bad])
                Issue.record("accepted CNNKIT_NUM_THREADS=\(bad)")
            } catch {
                #expect(error.parameter == "CNNKIT_NUM_THREADS" && error.value == bad && error.expected.contains("1 to \(CBackend.maximumThreads)"), "\(error)")
            }
        }
        #expect((try? CBackend.environmentThreadCount(["CNNKIT_NUM_THREADS": "8"])) == 8)
        #expect((try? CBackend.environmentThreadCount(["CNNKIT_NUM_THREADS": "1024"])) == 1024)
        #expect((try? CBackend.environmentThreadCount(["CNNKIT_NUM_THREADS": ""])) == .some(nil))
        #expect((try? CBackend.environmentThreadCount([:])) == .some(nil))
    }

    // MARK: Files

    @Test func malformedNPYHeadersThrow() {
        // Through the public API only (the reader itself is being rewritten): every malformed header is an error.
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        for header in ["{'descr': '<f4', 'fortran_order': False, 'shape': )(, }", "{'shape': (2,), }", "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "", "{"] {
            var bytes = magic
            let text = Array(header.utf8) + [0x0A]
            bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
            do {
                _ = try Tensor(npyData: Data(bytes))
                Issue.record("accepted header \(header)")
            } catch is CNNKitError {
            } catch {
                Issue.record("\(header): \(error)")
            }
        }
    }
}
