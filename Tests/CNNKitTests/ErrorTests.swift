import Foundation
import Testing
import CNNKit

/// Invalid input throws a ``CNNKitError`` naming the parameter; nothing traps and no partial output appears.
@Suite struct ErrorTests {
    let x = try! Tensor(shape: [1, 4, 8, 8])

    @Test func wrongRank() throws {
        expectError(parameter: "input.shape") { _ = try convolution(Tensor(shape: [4, 8]), weight: Tensor(shape: [1, 4, 3, 3])) }
        expectError(parameter: "input.shape") { _ = try pooling(Tensor(shape: [1, 1, 1, 1, 1, 1]), PoolingDescriptor(kind: .max, kernelShape: [1, 1, 1, 1])) }
        expectError(parameter: "weight.shape") { _ = try convolution(x, weight: Tensor(shape: [2, 4, 3])) }
        expectError(parameter: "input.shape") { _ = try pixelShuffle(Tensor(shape: [1, 4, 4]), PixelShuffleDescriptor(.depthToSpace, blockSize: 2)) }
    }

    @Test func weightChannelsMustBeChannelsPerGroup() throws {
        expectError(parameter: "weight.shape") { _ = try convolution(x, weight: Tensor(shape: [2, 3, 3, 3])) }
        expectError(parameter: "weight.shape") { _ = try convolution(x, weight: Tensor(shape: [2, 4, 3, 3]), ConvolutionDescriptor(group: 2)) }
        expectError(parameter: "bias.shape") { _ = try convolution(x, weight: Tensor(shape: [2, 4, 3, 3]), bias: Tensor(shape: [3])) }
        expectError(parameter: "kernel_shape") { _ = try convolution(x, weight: Tensor(shape: [2, 4, 3, 3]), ConvolutionDescriptor(kernelShape: [2, 2])) }
    }

    @Test func groupMustDivideChannels() throws {
        expectError(parameter: "group") { _ = try convolution(x, weight: Tensor(shape: [3, 4, 3, 3]), ConvolutionDescriptor(group: 3)) }
        expectError(parameter: "group") { _ = try convolution(x, weight: Tensor(shape: [3, 2, 3, 3]), ConvolutionDescriptor(group: 2)) }
        expectError(parameter: "group") { _ = try convolution(x, weight: Tensor(shape: [4, 4, 3, 3]), ConvolutionDescriptor(group: 0)) }
        expectError(parameter: "group") { _ = try convTranspose(x, weight: Tensor(shape: [4, 1, 3, 3]), ConvTransposeDescriptor(group: 3)) }
    }

    @Test(arguments: [0, -1]) func nonPositiveStrideKernelDilation(value: Int) throws {
        let w = try Tensor(shape: [2, 4, 3, 3])
        expectError(parameter: "strides") { _ = try convolution(x, weight: w, ConvolutionDescriptor(strides: [1, value])) }
        expectError(parameter: "dilations") { _ = try convolution(x, weight: w, ConvolutionDescriptor(dilations: [value, 1])) }
        expectError(parameter: "kernel_shape") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [value, 2])) }
        expectError(parameter: "strides") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [value, 1])) }
        expectError(parameter: "dilations") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], dilations: [1, value])) }
        expectError(parameter: "strides") { _ = try convTranspose(x, weight: Tensor(shape: [4, 1, 3, 3]), ConvTransposeDescriptor(strides: [value, 1])) }
        expectError(parameter: "kernel_shape") { _ = try maxUnpool(x, indices: IndexTensor(shape: x.shape), MaxUnpoolDescriptor(kernelShape: [value, 2])) }
    }

    @Test func listLengthsMustMatchSpatialRank() throws {
        let w = try Tensor(shape: [2, 4, 3, 3])
        expectError(parameter: "strides") { _ = try convolution(x, weight: w, ConvolutionDescriptor(strides: [1, 1, 1])) }
        expectError(parameter: "pads") { _ = try convolution(x, weight: w, ConvolutionDescriptor(pads: [1, 1])) }
        expectError(parameter: "kernel_shape") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2])) }
    }

    @Test func negativePads() throws {
        expectError(parameter: "pads") { _ = try convolution(x, weight: Tensor(shape: [2, 4, 3, 3]), ConvolutionDescriptor(pads: [0, -1, 0, 0])) }
        expectError(parameter: "pads") { _ = try pooling(x, PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [2, 2], pads: [-2, 0, 0, 0])) }
        expectError(parameter: "output_padding") { _ = try convTranspose(x, weight: Tensor(shape: [4, 1, 3, 3]), ConvTransposeDescriptor(outputPadding: [-1, 0])) }
    }

    @Test func negativeOutputLengthThrowsButZeroIsEmpty() throws {
        // L = 8, kernel 10: (8 − 10)/1 + 1 = −1.
        expectError(parameter: "kernel_shape") { _ = try convolution(x, weight: Tensor(shape: [1, 4, 10, 3])) }
        expectError(parameter: "kernel_shape") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [3, 10])) }
        // L = 8, kernel 9: (8 − 9)/1 + 1 = 0 → an empty output, not an error.
        let empty = try convolution(x, weight: Tensor(shape: [2, 4, 9, 3]))
        #expect(empty.shape == [1, 2, 0, 6])
        #expect(empty.count == 0)
        let emptyPool = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [9, 1]))
        #expect(emptyPool.shape == [1, 4, 0, 8])
    }

    @Test func overflowingSizesThrow() throws {
        expectError(parameter: "dilations") {
            _ = try convolution(x, weight: Tensor(shape: [1, 4, 3, 3]), ConvolutionDescriptor(dilations: [Int.max / 2, 1]))
        }
        expectError(parameter: "dilations") {
            _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], dilations: [1, Int.max]))
        }
        expectError(parameter: "shape") { _ = try Tensor(shape: [1 << 32, 1 << 32]) }
        expectError(parameter: "pads") { _ = try convolution(x, weight: Tensor(shape: [1, 4, 3, 3]), ConvolutionDescriptor(pads: [Int.max, 0, 0, 0])) }
        expectError(parameter: "output.shape") {
            _ = try ResizePlan(ResizeDescriptor(target: .sizes([1 << 31, 1 << 31]), axes: [2, 3]), inputShape: [1, 4, 8, 8])
        }
    }

    @Test func hugeValuesThrowInsteadOfTrapping() throws {
        let w = try Tensor(shape: [1, 4, 3, 3])
        // Int.max strides: output length 1 per axis, no overflow in the ceil/floor divisions.
        #expect(try convolution(x, weight: w, ConvolutionDescriptor(strides: [Int.max, Int.max], autoPad: .sameUpper)).shape == [1, 1, 1, 1])
        #expect(try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [Int.max, Int.max], ceilMode: true)).shape == [1, 4, 1, 1])
        // Shapes whose bytes overflow Int or exceed the machine's memory.
        expectError(parameter: "shape") { _ = try Tensor(shape: [Int.max]) }
        expectError(parameter: "shape") { _ = try Tensor(shape: [1 << 40]) }
        expectError(parameter: "output.shape") { _ = try ResizePlan(ResizeDescriptor(target: .scales([1, 1, 1e5, 1e5])), inputShape: [1, 4, 8, 8]) }
        expectError(parameter: "output.shape") {
            _ = try ConvolutionPlan(ConvolutionDescriptor(), inputShape: [1, 1, 1 << 14, 1 << 14], weightShape: [1024, 1, 1, 1])
        }
        expectError(parameter: "image_shape") {
            _ = try col2im(Tensor(shape: [1, 4, 1]), Col2ImDescriptor(imageShape: [Int.max, Int.max], blockShape: [2, 2]))
        }
    }

    @Test func poolingPadsMustBeSmallerThanKernel() throws {
        expectError(parameter: "pads") { _ = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], pads: [2, 0, 0, 0])) }
        expectError(parameter: "pads") { _ = try pooling(x, PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [3, 3], pads: [1, 1, 1, 3])) }
        #expect(try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [3, 3], pads: [2, 2, 2, 2])).shape == [1, 4, 10, 10])
    }

    @Test func resizeScalesMustBePositive() throws {
        expectError(parameter: "cubic_coeff_a") { _ = try resize(x, ResizeDescriptor(target: .scales([1, 1, 2, 2]), mode: .cubic, cubicCoefficientA: .nan)) }
        for scale: Float in [0, -2, .nan, .infinity] {
            expectError(parameter: "scales") { _ = try resize(x, ResizeDescriptor(target: .scales([1, 1, scale, 2]))) }
        }
        expectError(parameter: "scales") { _ = try resize(x, ResizeDescriptor(target: .scales([2, 2]))) }
        expectError(parameter: "sizes") { _ = try resize(x, ResizeDescriptor(target: .sizes([4, -1]), axes: [2, 3])) }
        expectError(parameter: "axes") { _ = try resize(x, ResizeDescriptor(target: .sizes([4, 4]), axes: [2, 2])) }
        expectError(parameter: "roi") {
            _ = try resize(x, ResizeDescriptor(target: .sizes([4, 4]), coordinateTransformation: .tfCropAndResize, axes: [2, 3], roi: [0, 0, 1]))
        }
    }

    @Test func zeroLengthAxisGivesNoOutput() throws {
        let flat = try Tensor(shape: [1, 2, 0, 5])
        expectError(parameter: "input.shape") { _ = try resize(flat, ResizeDescriptor(target: .sizes([3, 5]), axes: [2, 3])) }
        expectError(parameter: "input.shape") { _ = try convolution(flat, weight: Tensor(shape: [1, 2, 3, 3]), ConvolutionDescriptor(pads: [2, 1, 2, 1])) }
        expectError(parameter: "input.shape") { _ = try pooling(flat, .global(.max)) }
        // Without padding the output along that axis is empty too, which is fine.
        #expect(try convolution(flat, weight: Tensor(shape: [1, 2, 1, 3])).shape == [1, 1, 0, 3])
        #expect(try resize(flat, ResizeDescriptor(target: .scales([1, 1, 2, 2]))).shape == [1, 2, 0, 10])
        #expect(try pooling(Tensor(shape: [0, 3, 4, 4]), PoolingDescriptor(kind: .max, kernelShape: [2, 2])).shape == [0, 3, 3, 3])
    }

    @Test func maxUnpoolIndicesOutOfRange() throws {
        let pooled = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let descriptor = MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2])
        expectError(parameter: "indices") { _ = try maxUnpool(pooled, indices: IndexTensor(shape: [1, 1, 2, 2], scalars: [0, 3, 16, 5]), descriptor) }
        expectError(parameter: "indices") { _ = try maxUnpool(pooled, indices: IndexTensor(shape: [1, 1, 2, 2], scalars: [0, -1, 8, 5]), descriptor) }
        expectError(parameter: "indices.shape") { _ = try maxUnpool(pooled, indices: IndexTensor(shape: [1, 1, 4]), descriptor) }
        let ok = try maxUnpool(pooled, indices: IndexTensor(shape: [1, 1, 2, 2], scalars: [0, 3, 9, 15]), descriptor)
        #expect(ok.scalars == [1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4])
    }

    @Test func pixelShuffleDivisibility() throws {
        expectError(parameter: "input.shape") { _ = try pixelShuffle(Tensor(shape: [1, 6, 2, 2]), PixelShuffleDescriptor(.depthToSpace, blockSize: 2)) }
        expectError(parameter: "input.shape") { _ = try pixelShuffle(Tensor(shape: [1, 1, 3, 4]), PixelShuffleDescriptor(.spaceToDepth, blockSize: 2)) }
        expectError(parameter: "blocksize") { _ = try pixelShuffle(Tensor(shape: [1, 4, 2, 2]), PixelShuffleDescriptor(.depthToSpace, blockSize: 0)) }
    }

    @Test func poolingParameters() throws {
        expectError(parameter: "p") { _ = try pooling(x, PoolingDescriptor(kind: .lp(p: 0), kernelShape: [2, 2])) }
        expectError(parameter: "storage_order") {
            _ = try poolingWithIndices(Tensor(shape: [1, 1, 8]), PoolingDescriptor(kind: .max, kernelShape: [2], storageOrder: .columnMajor))
        }
        expectError(parameter: "indices") { _ = try poolingWithIndices(x, PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [2, 2])) }
    }

    @Test func backendSelection() throws {
        expectError(parameter: "backend") { _ = try convolution(x, weight: Tensor(shape: [1, 4, 3, 3]), backend: "no-such-backend") }
    }

    @Test func errorMessageQuotesCanonicalProblem() throws {
        do {
            _ = try convolution(x, weight: Tensor(shape: [2, 4, 3, 3]), ConvolutionDescriptor(strides: [0, 1]))
            Issue.record("expected an error")
        } catch let error as CNNKitError {
            #expect(error.description == "mb1ic4ih8iw8_oc2kh3kw3_sh0sw1_ph0pw0_dh1dw1_g1: strides = [0, 1]; expected every value >= 1")
        }
    }
}
