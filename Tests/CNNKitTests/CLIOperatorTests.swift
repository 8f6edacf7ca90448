import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// The operators the CLI exposes beyond plain filtering and pooling: border modes (reflect by default for images),
/// dilation, groups, explicit pads and a bias for a .npy kernel bank; global and adaptive pooling; argmax indices.
/// Each output is compared with the library call it stands for.
@Suite("cnnkit operators: borders, kernel banks, global / adaptive pooling, indices")
struct CLIOperatorTests {
    static func load(_ path: String) throws -> Tensor { try Tensor(npyFile: URL(fileURLWithPath: path)) }

    @Test func filterBorderDefaultsToReflect() async throws {
        let folder = try ScratchFolder()
        let photo = try readImage(CLI.photo)
        // A [kH, kW] .npy kernel is applied per channel (an asymmetric 5×4 one: the anchor and flips matter).
        let kernel = (0..<20).map { Float(($0 * 13) % 7) / 20 }
        try Tensor(shape: [5, 4], scalars: kernel).writeNPY(to: URL(fileURLWithPath: folder.path("k.npy")))
        let weight = try Tensor(shape: [3, 1, 5, 4], scalars: Array(repeatElement(kernel, count: 3).joined()))
        for (flag, mode) in [(nil, BorderMode.reflect), ("zero", .constant), ("symmetric", .symmetric), ("replicate", .edge), ("circular", .wrap)] {
            let out = folder.path("g-\(flag ?? "default").npy")
            let result = try await CLI.run(["filter", CLI.photo, out, "--kernel", folder.path("k.npy")] + (flag.map { ["--border", $0] } ?? []))
            #expect(result.status == 0, "\(result.stderr)")
            let expected = try convolution(photo, weight: weight, ConvolutionDescriptor(autoPad: .sameUpper, group: 3, border: mode), backend: "reference")
            let written = try Self.load(out)  // [C, H, W] for a PNG input
            #expect(written.shape == Array(expected.shape.dropFirst()), "\(mode)")
            #expect(zip(written.scalars, expected.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(mode)")
        }
        // With the reflect default a constant image stays constant up to the corners (no dark frame).
        try Tensor(shape: [1, 1, 32, 32], repeating: 1).writeNPY(to: URL(fileURLWithPath: folder.path("ones.npy")))
        let ones = try await CLI.run(["filter", folder.path("ones.npy"), folder.path("ones-g.npy"), "--kernel", "gaussian:2"])
        #expect(ones.status == 0, "\(ones.stderr)")
        #expect(try Self.load(folder.path("ones-g.npy")).scalars.allSatisfy { abs($0 - 1) < 1e-5 })
    }

    @Test func kernelBankWithGroupsDilationPadsAndBias() async throws {
        let folder = try ScratchFolder()
        let photo = try readImage(CLI.photo)
        // 6 output channels, 3 groups of one input channel each, 3×3 kernels, dilation 2, pads t,l,b,r = 1,2,3,0.
        let bank = try Tensor(shape: [6, 1, 3, 3], scalars: (0..<54).map { Float(($0 * 37) % 11) / 11 - 0.5 })
        let bias = try Tensor(shape: [6], scalars: [0.1, -0.2, 0.3, 0, 0.5, -0.5])
        try bank.writeNPY(to: URL(fileURLWithPath: folder.path("bank.npy")))
        try bias.writeNPY(to: URL(fileURLWithPath: folder.path("bias.npy")))
        let result = try await CLI.run(["filter", CLI.photo, folder.path("out.npy"), "--kernel", folder.path("bank.npy"), "--groups", "3",
                                        "--dilation", "2", "--pads", "1,2,3,0", "--bias", folder.path("bias.npy"), "--border", "zero"])
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try convolution(photo, weight: bank, bias: bias, ConvolutionDescriptor(pads: [1, 2, 3, 0], dilations: [2, 2], group: 3),
                                       backend: "reference")
        let out = try Self.load(folder.path("out.npy"))
        #expect(out.count == expected.count)
        #expect(maxAbsDifference(out, try Tensor(shape: out.shape, scalars: expected.scalars)) < 1e-5)
        // Groups and bias are for kernel banks; a bank whose channels do not fit the groups is named.
        let named = try await CLI.run(["filter", CLI.photo, folder.path("x.npy"), "--kernel", "sobel", "--groups", "3"])
        #expect(named.status != 0 && named.stderr.contains("--groups"))
        let wrong = try await CLI.run(["filter", CLI.photo, folder.path("x.npy"), "--kernel", folder.path("bank.npy"), "--groups", "2"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--groups 2"), "\(wrong.stderr)")
    }

    @Test func globalAdaptivePoolingAndIndices() async throws {
        let folder = try ScratchFolder()
        let photo = try readImage(CLI.photo)
        let adaptive = try await CLI.run(["pool", CLI.photo, folder.path("a.npy"), "--max", "--adaptive", "7x5", "--indices", folder.path("ai.npy")])
        #expect(adaptive.status == 0, "\(adaptive.stderr)")
        let (expected, indices) = try adaptivePoolingWithIndices(photo, AdaptivePoolingDescriptor(kind: .max, outputSize: [5, 7]), backend: "reference")
        #expect(try Self.load(folder.path("a.npy")).scalars == expected.scalars)
        #expect(try IndexTensor(npyFile: URL(fileURLWithPath: folder.path("ai.npy"))).scalars == indices.scalars)

        let global = try await CLI.run(["pool", CLI.photo, folder.path("g.npy"), "--avg", "--global"])
        #expect(global.status == 0, "\(global.stderr)")
        let mean = try pooling(photo, .global(.average(countIncludePad: false)), backend: "reference")
        let written = try Self.load(folder.path("g.npy"))
        #expect(written.shape == [3, 1, 1] && zip(written.scalars, mean.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(written.scalars) vs \(mean.scalars)")

        let window = try await CLI.run(["pool", CLI.photo, folder.path("w.npy"), "--max", "--kernel", "3", "--indices", folder.path("wi.npy")])
        #expect(window.status == 0, "\(window.stderr)")
        let (_, windowIndices) = try poolingWithIndices(photo, PoolingDescriptor(kind: .max, kernelShape: [3, 3], strides: [3, 3]), backend: "reference")
        #expect(try IndexTensor(npyFile: URL(fileURLWithPath: folder.path("wi.npy"))).scalars == windowIndices.scalars)

        for (arguments, message) in [
            (["--max", "--kernel", "2", "--global"], "give exactly one of --kernel K, --global, --adaptive WxH"),
            (["--lp", "2", "--adaptive", "3x3"], "adaptive pooling is --max or --avg"),
            (["--max", "--adaptive", "3"], "expected WxH"),
            (["--avg", "--kernel", "2", "--indices", folder.path("i.npy")], "argmax indices need --max"),
            (["--max", "--global", "--stride", "2"], "apply to --kernel windows only"),
        ] {
            let result = try await CLI.run(["pool", CLI.photo, folder.path("bad.npy")] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
