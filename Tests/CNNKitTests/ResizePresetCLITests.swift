import CNNKit
import Foundation
import Testing

// `cnnkit resize --preset …` and `--mode area` at any scale, run as a user runs them, on the resize-presets
// fixtures (the 48×40 crop and the libraries' outputs on its green channel; see ResizePresetTests).

private let presets = CLI.packageRoot.appendingPathComponent("Tests/CNNKitTests/Fixtures/resize-presets")

@Suite("cnnkit resize --preset")
struct ResizePresetCLITests {
    /// Runs `cnnkit resize input.npy out.npy arguments…` and returns channel 1 (green) of the output.
    func green(_ arguments: [String], in folder: ScratchFolder) async throws -> Tensor? {
        let out = folder.path("out-\(UUID().uuidString).npy")
        let result = try await CLI.run(["resize", presets.appendingPathComponent("input.npy").path, out, "--quiet"] + arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        guard result.status == 0 else { return nil }
        let y = try Tensor(npyFile: URL(fileURLWithPath: out))  // [1, 3, H, W], as the input was stored
        #expect(y.shape.count == 4 && y.shape[1] == 3)
        let (h, w) = (y.shape[2], y.shape[3])
        return try Tensor(shape: [h, w], scalars: Array(y.scalars[h * w..<2 * h * w]))
    }

    @Test(arguments: [
        (["--preset", "pillow", "--mode", "lanczos", "--size", "12x10"], "pillow-lanczos-10x12.npy"),
        (["--preset", "pillow", "--mode", "hamming", "--size", "21x17"], "pillow-hamming-17x21.npy"),
        (["--preset", "opencv", "--mode", "area", "--size", "21x17"], "opencv-area-17x21.npy"),
        (["--preset", "pytorch", "--mode", "nearest-exact", "--size", "55x45"], "pytorch-nearest-exact-45x55.npy"),
        (["--preset", "pytorch", "--mode", "bicubic", "--antialias", "--size", "21x17"], "pytorch-bicubic-aa-17x21.npy"),
        (["--preset", "pytorch", "--mode", "bilinear", "--coordinates", "align-corners", "--size", "55x45"], "pytorch-bilinear-ac-45x55.npy"),
        (["--preset", "tensorflow", "--mode", "bilinear", "--antialias", "--size", "12x10"], "tensorflow-bilinear-aa-10x12.npy"),
    ])
    func presetMatchesTheLibrary(_ arguments: [String], _ fixture: String) async throws {
        let folder = try ScratchFolder()
        let expected = try Tensor(npyFile: presets.appendingPathComponent(fixture))
        guard let y = try await green(arguments + ["--backend", "c"], in: folder) else { return }
        #expect(y.shape == expected.shape)
        #expect(maxAbsDifference(y, expected) <= (fixture.contains("nearest") ? 0 : 2e-6), "\(arguments)")
    }

    /// `--mode area` with a non-integer factor, which the tool used to refuse, is the library's area resize.
    @Test func areaAtAnyScale() async throws {
        let folder = try ScratchFolder()
        let x = try Tensor(npyFile: presets.appendingPathComponent("input.npy"))
        let problem = try ResizeProblem(descriptor: ResizeDescriptor(target: .scales([0.4, 0.4]), mode: .area, axes: [2, 3]), inputShape: x.shape)
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().resize(problem, input: x, output: &expected)
        #expect(expected.shape == [1, 3, 16, 19])
        let plane = 16 * 19
        let expectedGreen = try Tensor(shape: [16, 19], scalars: Array(expected.scalars[plane..<2 * plane]))
        for backend in ["reference", "c"] {
            guard let y = try await green(["--scale", "0.4", "--mode", "area", "--backend", backend], in: folder) else { continue }
            #expect(maxAbsDifference(y, expectedGreen) <= 1e-6, "\(backend)")
        }
        // Without a preset, area at 1/4 is OpenCV's and TensorFlow's area (the same box coverage).
        let opencv = try Tensor(npyFile: presets.appendingPathComponent("opencv-area-10x12.npy"))
        if let y = try await green(["--size", "12x10", "--mode", "area"], in: folder) {
            #expect(maxAbsDifference(y, opencv) <= 2e-6)
        }
    }

    @Test(arguments: [
        (["--preset", "opencv", "--mode", "lanczos"], ["--mode lanczos", "--preset opencv", "nearest-exact"]),
        (["--preset", "pillow", "--mode", "nearest-exact"], ["--mode nearest-exact", "--preset pillow", "hamming"]),
        (["--preset", "tensorflow", "--mode", "box"], ["--mode box", "--preset tensorflow"]),
        (["--preset", "pillow", "--mode", "bicubic", "--antialias"], ["--antialias", "--preset pillow"]),
        (["--preset", "opencv", "--mode", "bilinear", "--antialias"], ["--antialias", "--preset opencv"]),
        (["--preset", "opencv", "--mode", "bilinear", "--coordinates", "align-corners"], ["--coordinates align-corners", "--preset opencv"]),
        (["--preset", "pytorch", "--mode", "bilinear", "--coordinates", "asymmetric"], ["--coordinates asymmetric", "--preset pytorch"]),
        (["--preset", "pytorch", "--mode", "nearest", "--antialias"], ["--mode nearest", "--preset pytorch", "--antialias"]),
        (["--preset", "pytorch", "--mode", "bicubic", "--antialias", "--coordinates", "align-corners"], ["align_corners", "--preset pytorch"]),
    ])
    func refusals(_ arguments: [String], _ fragments: [String]) async throws {
        let folder = try ScratchFolder()
        let out = folder.path("refused.npy")
        let result = try await CLI.run(["resize", presets.appendingPathComponent("input.npy").path, out, "--size", "12x10"] + arguments)
        #expect(result.status == 1, "\(arguments): status \(result.status)")
        #expect(result.errorLines.count == 1, "\(result.stderr)")
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "'\(fragment)' not in: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
