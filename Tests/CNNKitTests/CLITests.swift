import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// End-to-end tests of the `cnnkit` tool: each runs the built executable on the bundled photo (or a fixture) and
/// checks the files it writes, its messages and its exit status.
@Suite("cnnkit command line")
struct CLITests {
    // MARK: filter

    /// Sobel magnitude per channel with zero padding, computed here directly from the definition in Double.
    static func independentSobel(_ image: Tensor) -> [Float] {
        let (channels, height, width) = (image.shape[1], image.shape[2], image.shape[3])
        let kx: [[Double]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
        let ky: [[Double]] = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
        var out = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    var gx = 0.0, gy = 0.0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let (sy, sx) = (y + dy, x + dx)
                            guard sy >= 0, sy < height, sx >= 0, sx < width else { continue }
                            let value = Double(image.scalars[(c * height + sy) * width + sx])
                            gx += kx[dy + 1][dx + 1] * value
                            gy += ky[dy + 1][dx + 1] * value
                        }
                    }
                    out[(c * height + y) * width + x] = Float((gx * gx + gy * gy).squareRoot())
                }
            }
        }
        return out
    }

    @Test func sobelMatchesIndependentComputation() async throws {
        let folder = try ScratchFolder()
        let result = try await CLI.run(["filter", CLI.photo, folder.path("sobel.npy"), "--kernel", "sobel", "--border", "zero", "--backend", "reference"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try Tensor(npyFile: URL(fileURLWithPath: folder.path("sobel.npy")))
        #expect(output.shape == [3, 300, 451], "a PNG input writes [C, H, W] .npy")
        let expected = Self.independentSobel(try readImage(CLI.photo))
        let worst = zip(output.scalars, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(worst < 1e-5, "max |cnnkit − independent Sobel| = \(worst)")
        #expect(expected.max()! > 1, "the photo has strong edges")

        // The PNG output of the same filter is the clamped, 8-bit quantised magnitude.
        let png = try await CLI.run(["filter", CLI.photo, folder.path("sobel.png"), "--kernel", "sobel", "--border", "zero", "--backend", "reference"])
        #expect(png.status == 0, "\(png.stderr)")
        let written = try readImage(folder.path("sobel.png"))
        #expect(written.shape == [1, 3, 300, 451])
        let quantised = expected.map { ($0.clamped(to: 0...1) * 255).rounded() / 255 }
        #expect(maxAbsDifference(written, try Tensor(shape: [1, 3, 300, 451], scalars: quantised)) < 1.5 / 255)
    }

    @Test func builtinKernelsValidPaddingStrideAndNpyKernel() async throws {
        let folder = try ScratchFolder()
        // A [kH, kW] kernel file is applied per channel; a 1×1 kernel of 0.5 halves the image.
        try Tensor(shape: [1, 1], scalars: [0.5]).writeNPY(to: URL(fileURLWithPath: folder.path("k.npy")))
        let scaled = try await CLI.run(["filter", CLI.photo, folder.path("scaled.npy"), "--kernel", folder.path("k.npy")])
        #expect(scaled.status == 0, "\(scaled.stderr)")
        let photo = try readImage(CLI.photo)
        let scaledOut = try Tensor(npyFile: URL(fileURLWithPath: folder.path("scaled.npy")))
        #expect(zip(scaledOut.scalars, photo.scalars).allSatisfy { abs($0 - $1 / 2) < 1e-7 })

        // valid padding with a 5×5 box and stride 2: floor((L − 5) / 2) + 1.
        let box = try await CLI.run(["filter", CLI.photo, folder.path("box.npy"), "--kernel", "box:5", "--padding", "valid", "--stride", "2"])
        #expect(box.status == 0, "\(box.stderr)")
        let boxOut = try Tensor(npyFile: URL(fileURLWithPath: folder.path("box.npy")))
        #expect(boxOut.shape == [3, 148, 224])
        var mean = 0.0
        for dy in 0..<5 { for dx in 0..<5 { mean += Double(photo[0, 1, 2 * 10 + dy, 2 * 20 + dx]) } }
        #expect(abs(Double(boxOut[1, 10, 20]) - mean / 25) < 1e-6)

        // A full layer [M, C, kH, kW] = [1, 3, 1, 1] averaging the channels gives one gray channel (a PNG).
        try Tensor(shape: [1, 3, 1, 1], scalars: [1.0 / 3, 1.0 / 3, 1.0 / 3]).writeNPY(to: URL(fileURLWithPath: folder.path("gray.npy")))
        let gray = try await CLI.run(["filter", CLI.photo, folder.path("gray.png"), "--kernel", folder.path("gray.npy")])
        #expect(gray.status == 0, "\(gray.stderr)")
        #expect(try readImage(folder.path("gray.png")).shape == [1, 1, 300, 451])

        // Every built-in kernel runs (on a small crop of the photo, to keep this quick).
        let small = folder.path("small.png")
        #expect(try await CLI.run(["resize", CLI.photo, small, "--scale", "0.125", "--mode", "area"]).status == 0)
        for kernel in ["sobel-x", "sobel-y", "laplacian", "gaussian:1.2", "box:3", "sharpen", "emboss", "gabor:30"] {
            let run = try await CLI.run(["filter", small, folder.path("k-\(kernel).png"), "--kernel", kernel, "--normalize", "--mode", "convolve"])
            #expect(run.status == 0, "\(kernel): \(run.stderr)")
            #expect(try readImage(folder.path("k-\(kernel).png")).shape == [1, 3, 37, 56], "\(kernel)")
        }
        // gaussian:SIGMA has size 2·ceil(3σ)+1: valid padding with σ = 1.2 (size 9) loses 8 pixels per axis.
        let gaussian = try await CLI.run(["filter", small, folder.path("g.npy"), "--kernel", "gaussian:1.2", "--padding", "valid"])
        #expect(gaussian.status == 0)
        #expect(try Tensor(npyFile: URL(fileURLWithPath: folder.path("g.npy"))).shape == [3, 29, 48])
    }

    // MARK: pool and resize

    @Test func poolShapesAndValues() async throws {
        let folder = try ScratchFolder()
        let photo = try readImage(CLI.photo)
        let max = try await CLI.run(["pool", CLI.photo, folder.path("max.npy"), "--max", "--kernel", "3", "--stride", "2", "--padding", "1"])
        #expect(max.status == 0, "\(max.stderr)")
        let maxOut = try Tensor(npyFile: URL(fileURLWithPath: folder.path("max.npy")))
        #expect(maxOut.shape == [3, 150, 226])  // floor((L + 2 − 3) / 2) + 1
        var expected = -Float.infinity
        for dy in -1...1 { for dx in -1...1 { expected = Swift.max(expected, photo[0, 2, 2 * 40 + dy, 2 * 50 + dx]) } }
        #expect(maxOut[2, 40, 50] == expected)

        let avg = try await CLI.run(["pool", CLI.photo, folder.path("avg.png"), "--avg", "--kernel", "2", "--ceil"])
        #expect(avg.status == 0, "\(avg.stderr)")
        #expect(try readImage(folder.path("avg.png")).shape == [1, 3, 150, 226])
        for kind in [["--lp", "2"], ["--stochastic", "7"]] {
            let run = try await CLI.run(["pool", CLI.photo, folder.path("p.npy"), "--kernel", "4"] + kind)
            #expect(run.status == 0, "\(kind): \(run.stderr)")
            #expect(try Tensor(npyFile: URL(fileURLWithPath: folder.path("p.npy"))).shape == [3, 75, 112])
        }
        let none = try await CLI.run(["pool", CLI.photo, folder.path("none.png"), "--kernel", "2"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("exactly one of --max"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("none.png")))
    }

    @Test func resizeShapesAndValues() async throws {
        let folder = try ScratchFolder()
        let photo = try readImage(CLI.photo)
        func output(_ name: String) throws -> Tensor { try Tensor(npyFile: URL(fileURLWithPath: folder.path(name))) }

        // area, factor 2: each output pixel is the mean of a 2×2 block (451 → 225 drops the last column).
        #expect(try await CLI.run(["resize", CLI.photo, folder.path("area.npy"), "--scale", "0.5", "--mode", "area"]).status == 0)
        let area = try output("area.npy")
        #expect(area.shape == [3, 150, 225])
        var worst: Float = 0
        for c in 0..<3 {
            for y in stride(from: 0, to: 150, by: 7) {
                for x in stride(from: 0, to: 225, by: 5) {
                    let block = photo[0, c, 2 * y, 2 * x] + photo[0, c, 2 * y, 2 * x + 1]
                        + photo[0, c, 2 * y + 1, 2 * x] + photo[0, c, 2 * y + 1, 2 * x + 1]
                    worst = max(worst, abs(area[c, y, x] - block / 4))
                }
            }
        }
        #expect(worst < 1e-6)
        // area up-scaling by an integer repeats pixels; a non-integer factor is box coverage (ResizePresetCLITests).
        #expect(try await CLI.run(["resize", CLI.photo, folder.path("area3.npy"), "--size", "902x900", "--mode", "area"]).status == 0)
        let area3 = try output("area3.npy")
        #expect(area3.shape == [3, 900, 902])
        #expect(area3[1, 299, 901] == photo[0, 1, 99, 450])
        #expect(try await CLI.run(["resize", CLI.photo, folder.path("area-any.npy"), "--size", "200x100", "--mode", "area"]).status == 0)
        #expect(try output("area-any.npy").shape == [3, 100, 200])

        // nearest ×2 with half-pixel coordinates repeats every pixel 2×2.
        #expect(try await CLI.run(["resize", CLI.photo, folder.path("nearest.npy"), "--scale", "2", "--mode", "nearest"]).status == 0)
        let nearest = try output("nearest.npy")
        #expect(nearest.shape == [3, 600, 902])
        #expect((0..<600).allSatisfy { y in nearest[2, y, 777] == photo[0, 2, y / 2, 777 / 2] })

        // bilinear to an exact size, checked against bilinear interpolation computed here (interior points).
        #expect(try await CLI.run(["resize", CLI.photo, folder.path("bilinear.npy"), "--size", "200x120", "--mode", "bilinear"]).status == 0)
        let bilinear = try output("bilinear.npy")
        #expect(bilinear.shape == [3, 120, 200])
        worst = 0
        for (y, x) in [(10, 10), (60, 100), (111, 190), (33, 47)] {
            let sy = (Double(y) + 0.5) * 300 / 120 - 0.5, sx = (Double(x) + 0.5) * 451 / 200 - 0.5
            let (y0, x0) = (Int(sy.rounded(.down)), Int(sx.rounded(.down)))
            let (fy, fx) = (sy - Double(y0), sx - Double(x0))
            let p = { (yy: Int, xx: Int) in Double(photo[0, 0, yy, xx]) }
            let value = (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) + fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1))
            worst = max(worst, Float(abs(value - Double(bilinear[0, y, x]))))
        }
        #expect(worst < 1e-5)

        // bicubic with every coordinate mode and antialias, written as PNG of the requested size.
        for coordinates in ["half-pixel", "align-corners", "asymmetric", "pytorch-half-pixel"] {
            let run = try await CLI.run([
                "resize", CLI.photo, folder.path("cubic.png"), "--size", "150x100", "--mode", "bicubic", "--antialias",
                "--coordinates", coordinates,
            ])
            #expect(run.status == 0, "\(coordinates): \(run.stderr)")
            #expect(try readImage(folder.path("cubic.png")).shape == [1, 3, 100, 150])
        }
    }

    // MARK: features

    @Test func featuresWritesTheExpectedGrid() async throws {
        let folder = try ScratchFolder()
        let small = folder.path("small.png")
        // The bundled photo at a quarter size (112×75) keeps this quick on the reference backend.
        #expect(try await CLI.run(["resize", CLI.photo, small, "--scale", "0.25", "--mode", "area"]).status == 0)

        // Default bank: 8 kernels → 4 columns × 2 rows of 112×75 tiles under 9-pixel label bands, 4-pixel gaps.
        let sheet = try await CLI.run(["features", small, folder.path("sheet.png")])
        #expect(sheet.status == 0, "\(sheet.stderr)")
        let image = try readImage(folder.path("sheet.png"))
        #expect(image.shape == [1, 1, 2 * (75 + 9) + 3 * 4, 4 * 112 + 5 * 4])
        // Every tile holds a stretched map: white somewhere, black somewhere.
        #expect(image.scalars.contains(1) && image.scalars.contains(0))

        // Two kernels, no pooling: one row of two tiles.
        let two = try await CLI.run(["features", small, folder.path("two.png"), "--kernels", "sobel-x,box:3", "--pool", "1"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(try readImage(folder.path("two.png")).shape == [1, 1, 75 + 9 + 2 * 4, 2 * 112 + 3 * 4])

        let bad = try await CLI.run(["features", small, folder.path("bad.png"), "--kernels", "sobel"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("sobel-x,sobel-y"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("bad.png")))
    }

    // MARK: backends

    static let cIsRegistered = BackendRegistry.shared.names.contains("c")

    @Test(.enabled(if: cIsRegistered, "the \"c\" backend is not registered in this build: reference-vs-c comparison skipped"))
    func referenceAndCGiveTheSameOutput() async throws {
        let folder = try ScratchFolder()
        let commands: [(String, [String])] = [
            ("sobel.npy", ["filter", "--kernel", "sobel"]),
            ("gauss.npy", ["filter", "--kernel", "gaussian:2", "--stride", "2"]),
            ("max.npy", ["pool", "--max", "--kernel", "3", "--stride", "2"]),
            ("avg.npy", ["pool", "--avg", "--kernel", "4"]),
            ("area.npy", ["resize", "--scale", "0.5", "--mode", "area"]),
            ("bilinear.npy", ["resize", "--scale", "1.7", "--mode", "bilinear"]),
            ("bicubic.npy", ["resize", "--size", "200x150", "--mode", "bicubic", "--antialias"]),
            ("nearest.npy", ["resize", "--scale", "2", "--mode", "nearest"]),
        ]
        for (name, command) in commands {
            var outputs: [Tensor] = []
            for backend in ["reference", "c"] {
                let path = folder.path("\(backend)-\(name)")
                let run = try await CLI.run([command[0], CLI.photo, path] + command.dropFirst() + ["--backend", backend])
                #expect(run.status == 0, "\(command) on \(backend): \(run.stderr)")
                outputs.append(try Tensor(npyFile: URL(fileURLWithPath: path)))
            }
            let tolerance: Float = name.hasPrefix("max") || name.hasPrefix("nearest") ? 0 : 1e-4
            #expect(maxAbsDifference(outputs[0], outputs[1]) <= tolerance, "\(command): reference vs c")
        }
        for backend in ["reference", "c"] {
            let run = try await CLI.run(["features", CLI.photo, folder.path("features-\(backend).png"), "--backend", backend])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let sheets = try ["reference", "c"].map { try readImage(folder.path("features-\($0).png")) }
        #expect(maxAbsDifference(sheets[0], sheets[1]) <= 1.5 / 255, "features: reference vs c")
    }

    @Test func backendOptionAndInfo() async throws {
        let folder = try ScratchFolder()
        let info = try await CLI.run(["info"])
        #expect(info.status == 0)
        for name in BackendRegistry.shared.names { #expect(info.stdout.contains(name)) }
        #expect(info.stdout.contains("CPU features seen"))
        #expect(info.stdout.contains("libpng"))

        let output = folder.path("out.png")
        let unknown = try await CLI.run(["filter", CLI.photo, output, "--kernel", "sobel", "--backend", "nosuch"])
        #expect(unknown.status != 0)
        #expect(unknown.errorLines == ["cnnkit: error: --backend nosuch: no such backend in this build (registered: \(BackendRegistry.shared.names.joined(separator: ", ")); or auto)"])
        if !Self.cIsRegistered {
            let c = try await CLI.run(["filter", CLI.photo, output, "--kernel", "sobel", "--backend", "c"])
            #expect(c.status != 0)
            #expect(c.stderr.contains("--backend c: no such backend"))
        }
        let threads = try await CLI.run(["pool", CLI.photo, output, "--max", "--kernel", "8", "--threads", "2", "--time"])
        #expect(threads.status == 0)
        #expect(threads.stdout.contains("read") && threads.stdout.contains("pool on ") && threads.stdout.contains("write"))
        let zeroThreads = try await CLI.run(["pool", CLI.photo, folder.path("t.png"), "--max", "--kernel", "8", "--threads", "0"])
        #expect(zeroThreads.status != 0)
        #expect(zeroThreads.stderr.contains("--threads 0"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("t.png")))
    }

    // MARK: bad input

    /// Runs `arguments`, expects a non-zero status, one `cnnkit: error:` line containing every fragment, and no
    /// file (nor left-over temporary file) in `folder` other than `keep`.
    func expectFailure(
        _ arguments: [String], in folder: ScratchFolder, mentions fragments: [String], keep: Set<String> = [],
        timeout: Double = 600, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = Set(folder.contents)
        let result = try await CLI.run(arguments, timeout: timeout)
        #expect(result.status != 0, "\(arguments) succeeded", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "expected one line, got: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.errorLines.first?.hasPrefix("cnnkit: error: ") == true, "\(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "'\(fragment)' not in: \(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(Set(folder.contents) == before, "files appeared: \(Set(folder.contents).subtracting(before))", sourceLocation: sourceLocation)
    }

    @Test func badInputsGiveOneLineANonZeroStatusAndNoFile() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")

        // A missing file.
        let missing = folder.path("missing.png")
        try await expectFailure(["filter", missing, out, "--kernel", "sobel"], in: folder, mentions: [missing, "no such file"])

        // A file that is not a PNG.
        let text = folder.path("notes.png")
        try Data("this is not an image\n".utf8).write(to: URL(fileURLWithPath: text))
        try await expectFailure(["filter", text, out, "--kernel", "sobel"], in: folder, mentions: [text, "not a PNG file"])

        // A truncated PNG (the photo cut after 5000 bytes) and one cut inside the header.
        let photoData = try Data(contentsOf: URL(fileURLWithPath: CLI.photo))
        for length in [5000, 20, 60] {
            let truncated = folder.path("truncated-\(length).png")
            try photoData.prefix(length).write(to: URL(fileURLWithPath: truncated))
            try await expectFailure(["pool", truncated, out, "--max", "--kernel", "2"], in: folder, mentions: [truncated, "truncated or corrupt PNG"])
        }
        // A PNG whose image data was damaged (one byte flipped inside IDAT: CRC error).
        var damaged = photoData
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: folder.path("damaged.png")))
        try await expectFailure(["pool", folder.path("damaged.png"), out, "--max", "--kernel", "2"], in: folder, mentions: ["damaged.png", "corrupt"])

        // An unsupported bit depth (a valid 4-bit gray PNG).
        try await expectFailure(
            ["filter", CLI.fixture("gray4.png"), out, "--kernel", "laplacian"], in: folder,
            mentions: ["gray4.png", "unsupported PNG bit depth 4"])

        // A kernel file of the wrong shape: rank 1, and [M, C, kH, kW] with C ≠ the image's 3 channels.
        let vector = folder.path("vector.npy")
        try Tensor(shape: [3], scalars: [1, 2, 1]).writeNPY(to: URL(fileURLWithPath: vector))
        try await expectFailure(["filter", CLI.photo, out, "--kernel", vector], in: folder, mentions: [vector, "kernel shape [3]"])
        let twoChannels = folder.path("two-channels.npy")
        try Tensor(shape: [1, 2, 3, 3], repeating: 1).writeNPY(to: URL(fileURLWithPath: twoChannels))
        try await expectFailure(["filter", CLI.photo, out, "--kernel", twoChannels], in: folder, mentions: [twoChannels, "[1, 2, 3, 3]", "image has 3"])
        try await expectFailure(["filter", CLI.photo, out, "--kernel", folder.path("nokernel.npy")], in: folder, mentions: ["nokernel.npy", "no such file"])
        try await expectFailure(["filter", CLI.photo, out, "--kernel", "gaussian:0"], in: folder, mentions: ["--kernel gaussian:0"])

        // --scale <= 0 and --size 0x10.
        for scale in ["0", "-1", "nan"] {
            try await expectFailure(
                ["resize", CLI.photo, out, "--scale=\(scale)", "--mode", "bilinear"], in: folder, mentions: ["--scale", CLI.photo])
        }
        try await expectFailure(["resize", CLI.photo, out, "--size", "0x10", "--mode", "nearest"], in: folder, mentions: ["--size 0x10", CLI.photo])
        try await expectFailure(["resize", CLI.photo, out, "--size", "10", "--mode", "nearest"], in: folder, mentions: ["--size 10"])

        // An output folder that cannot be written: missing, and a "folder" that is a file.
        try await expectFailure(
            ["filter", CLI.photo, folder.path("no/such/folder/out.png"), "--kernel", "sobel-x"], in: folder,
            mentions: ["no/such/folder/out.png", "does not exist"])
        try await expectFailure(
            ["filter", CLI.photo, "\(text)/out.png", "--kernel", "sobel-x"], in: folder, mentions: ["notes.png/out.png", "cannot write"])
        if getuid() != 0 {  // root writes into read-only folders, so this case needs an ordinary user
            let readOnly = folder.path("read-only")
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
            chmod(readOnly, 0o555)
            defer { chmod(readOnly, 0o755) }
            try await expectFailure(
                ["filter", CLI.photo, "\(readOnly)/out.png", "--kernel", "sobel-x"], in: folder,
                mentions: ["read-only/out.png", "cannot write"])
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: readOnly)) ?? ["?"]).isEmpty)
        }
        // A pooling window larger than the image.
        try await expectFailure(["pool", CLI.photo, out, "--max", "--kernel", "400"], in: folder, mentions: [CLI.photo, "leaves no pixels"])
        // An output PNG cannot hold 6 channels: the error names the file and nothing is written.
        let six = folder.path("six.npy")
        try Tensor(shape: [6, 3, 1, 1], repeating: 1).writeNPY(to: URL(fileURLWithPath: six))
        try await expectFailure(["filter", CLI.photo, out, "--kernel", six], in: folder, mentions: [out, "6", "write .npy instead"])
        // An unknown output extension.
        try await expectFailure(["filter", CLI.photo, folder.path("out.tiff"), "--kernel", "sobel"], in: folder, mentions: ["out.tiff", ".png, .jpg, .jpeg or .npy"])
    }

    /// Issue 13: a negative number after a space (`--stride -1`) was "Missing value" and the whole usage text.
    /// Every numeric option of every subcommand takes it as its value and rejects it with the option's own rule.
    @Test func negativeNumbersAreValuesRejectedByTheOptionsRule() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png"), jpg = folder.path("out.jpg")
        let cases: [(arguments: [String], mentions: [String])] = [
            (["filter", CLI.photo, out, "--kernel", "sobel", "--stride", "-1"], ["--stride -1: expected a stride >= 1"]),
            (["filter", CLI.photo, out, "--kernel", "-1"], ["--kernel -1: unknown kernel"]),
            (["filter", CLI.photo, jpg, "--kernel", "sobel", "--quality", "-1"], ["--quality -1: expected a JPEG quality from 1 to 100"]),
            (["pool", CLI.photo, out, "--max", "--kernel", "-1"], ["--kernel -1: expected a window size >= 1"]),
            (["pool", CLI.photo, out, "--max", "--kernel", "3", "--stride", "-2"], ["--stride -2: expected a stride >= 1"]),
            (["pool", CLI.photo, out, "--max", "--kernel", "3", "--padding", "-1"], ["--padding -1: expected padding >= 0"]),
            (["pool", CLI.photo, out, "--kernel", "3", "--lp", "-2"], ["--lp -2.0: expected a finite p > 0"]),
            (["pool", CLI.photo, out, "--kernel", "3", "--stochastic", "-1"], ["'-1'", "--stochastic", "expected a whole number from 0 to 18446744073709551615"]),
            (["resize", CLI.photo, out, "--scale", "-1", "--mode", "nearest"], ["--scale -1: expected a finite factor > 0"]),
            (["resize", CLI.photo, out, "--size", "-5x5", "--mode", "nearest"], ["--size -5x5: expected WxH"]),
            (["features", CLI.photo, out, "--pool", "-1"], ["--pool -1: expected a window size >= 1"]),
            (["info", "--threads", "-3"], ["--threads -3: expected a thread count from 1 to 1024"]),
            (["demo", "--threads", "-2"], ["--threads -2: expected a thread count from 1 to 1024"]),
            (["bench", "--list", "--threads", "-1"], ["--threads -1: expected a thread count from 1 to 1024"]),
            (["bench", "--list", "--repetitions", "-1"], ["--repetitions -1: expected a whole number from 1 to 100000"]),
            (["bench", "--list", "--max-seconds", "-1"], ["--max-seconds -1.0: expected a finite number of seconds > 0"]),
            (["train", "--epochs", "-1"], ["--epochs must be at least 1, got -1"]),
            (["train", "--batch-size", "-1"], ["--batch-size must be at least 1, got -1"]),
            (["train", "--learning-rate", "-1"], ["--learning-rate must be positive, got -1.0"]),
            (["train", "--seed", "-1"], ["'-1'", "--seed", "expected a whole number from 0 to 18446744073709551615"]),
            (["train", "--threads", "-1"], ["--threads -1: expected a thread count from 1 to 1024"]),
        ]
        for (arguments, mentions) in cases {
            try await expectFailure(arguments, in: folder, mentions: mentions)
            let run = try await CLI.run(arguments)
            #expect(!run.stderr.contains("Missing value") && !run.stderr.contains("Usage:"), "\(arguments): \(run.stderr)")
        }
        // The value still binds to its option when written with `=`, and a missing value is still reported.
        try await expectFailure(["filter", CLI.photo, out, "--kernel", "sobel", "--stride=-3"], in: folder, mentions: ["--stride -3"])
        try await expectFailure(["pool", CLI.photo, out, "--max", "--kernel"], in: folder, mentions: ["Missing value for '--kernel <kernel>'"])
    }

    /// Issue 13: usage errors printed the whole usage text; now one line and a pointer to the subcommand's help.
    @Test func usageErrorsAreOneLineWithAPointerToHelp() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")
        let cases: [(arguments: [String], mentions: [String], help: String)] = [
            (["pool", CLI.photo, out, "--max"], ["give exactly one of --kernel K, --global, --adaptive WxH"], "cnnkit pool"),
            (["filter"], ["Missing expected argument '<input>'"], "cnnkit filter"),
            (["filter", CLI.photo, out, "--kernel", "sobel", "--stride", "abc"], ["'abc'", "--stride"], "cnnkit filter"),
            (["filter", CLI.photo, out, "--kernel", "sobel", "--mode", "bogus"], ["'bogus'", "--mode"], "cnnkit filter"),
            (["filter", CLI.photo, out, "--kernel", "sobel", "--nosuch"], ["--nosuch"], "cnnkit filter"),
            (["resize", CLI.photo, out, "--scale", "2", "--mode", "bogus"], ["'bogus'", "--mode"], "cnnkit resize"),
            (["conformance"], ["<directories>"], "cnnkit conformance"),
            (["bench", "--list", "--filter", "("], ["--filter ("], "cnnkit bench"),
            (["train", "--backend", "nosuch"], ["--backend nosuch: no such backend"], "cnnkit train"),
            (["nosuch"], ["'nosuch'"], "cnnkit"),
        ]
        for (arguments, mentions, help) in cases {
            try await expectFailure(arguments, in: folder, mentions: mentions + ["(see '\(help) --help')"])
            let run = try await CLI.run(arguments)
            #expect(run.status == 64, "\(arguments): status \(run.status)")
            #expect(!run.stderr.contains("Usage:") && run.stdout.isEmpty, "\(arguments): \(run.stderr)")
        }
        // --help is still the whole help, on standard output, and documents the thread range.
        let help = try await CLI.run(["pool", "--help"])
        #expect(help.status == 0 && help.stderr.isEmpty)
        #expect(help.stdout.contains("USAGE: cnnkit pool") && help.stdout.contains("1…1024"), "\(help.stdout)")
    }

    /// Issue 13: `--threads 1099511627776` and `CNNKIT_NUM_THREADS=-5` / `=lots` were silently accepted.
    @Test func threadCountsOutsideTheRangeAreErrors() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")
        for value in ["1099511627776", "1025", "0"] {
            try await expectFailure(["pool", CLI.photo, out, "--max", "--kernel", "2", "--threads", value], in: folder,
                                    mentions: ["--threads \(value): expected a thread count from 1 to 1024"])
        }
        #expect(try await CLI.run(["info", "--threads", "1024"]).status == 0)
        for value in ["-5", "lots", "0", "1025", "2x"] {
            let run = try await CLI.run(["pool", CLI.photo, out, "--max", "--kernel", "2"], environment: ["CNNKIT_NUM_THREADS": value])
            #expect(run.status == 1, "CNNKIT_NUM_THREADS=\(value): status \(run.status)")
            #expect(run.errorLines == ["cnnkit: error: CNNKIT_NUM_THREADS=\(value): expected a whole number of threads from 1 to 1024 (or unset: every core)"],
                    "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // Valid or empty values run; help needs no valid environment.
        let two = try await CLI.run(["pool", CLI.photo, out, "--max", "--kernel", "2"], environment: ["CNNKIT_NUM_THREADS": "2"])
        #expect(two.status == 0, "\(two.stderr)")
        let info = try await CLI.run(["info"], environment: ["CNNKIT_NUM_THREADS": "3"])
        #expect(info.stdout.contains("CNNKIT_NUM_THREADS = 3"))
        #expect(try await CLI.run(["info"], environment: ["CNNKIT_NUM_THREADS": ""]).status == 0)
        #expect(try await CLI.run(["pool", "--help"], environment: ["CNNKIT_NUM_THREADS": "-5"]).status == 0)
    }

    /// Library errors about a descriptor field name the command-line option that set it (issue 13: a kernel of 2^62
    /// is reported by the library as a kernel_shape overflow).
    @Test func errorsBlameTheOptionGiven() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")
        let huge = "\(1 << 62)"
        try await expectFailure(["pool", CLI.photo, out, "--max", "--kernel", huge], in: folder,
                                mentions: [CLI.photo, "--kernel \(huge): kernel_shape = \(huge)"])
        try await expectFailure(["pool", CLI.photo, out, "--max", "--kernel", "3", "--padding", huge], in: folder,
                                mentions: [CLI.photo, "--padding \(huge): pads = "])
        try await expectFailure(["resize", CLI.photo, out, "--scale", "1e30", "--mode", "nearest"], in: folder,
                                mentions: [CLI.photo, "--scale 1e+30: scales = "])
        try await expectFailure(["resize", CLI.photo, out, "--size", "100000x100000", "--mode", "nearest"], in: folder,
                                mentions: [CLI.photo, "--size 100000x100000: output.shape = "])
    }

    /// A FIFO or a character device given as an input or a kernel file blocked the reader forever (hostile pass).
    @Test func nonRegularFilesAreRefusedAtOnce() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")
        let fifo = folder.path("pipe.png"), fifoKernel = folder.path("pipe.npy")
        #expect(mkfifo(fifo, 0o644) == 0 && mkfifo(fifoKernel, 0o644) == 0)
        try await expectFailure(["filter", fifo, out, "--kernel", "sobel"], in: folder, mentions: [fifo, "a FIFO, not a file"], timeout: 20)
        try await expectFailure(["filter", CLI.photo, out, "--kernel", fifoKernel], in: folder, mentions: [fifoKernel, "a FIFO"], timeout: 20)
        try await expectFailure(["features", CLI.photo, out, "--kernels", "sobel-x,\(fifoKernel)"], in: folder, mentions: [fifoKernel, "a FIFO"],
                                timeout: 20)
        let device = folder.path("zero.npy")
        try FileManager.default.createSymbolicLink(atPath: device, withDestinationPath: "/dev/zero")
        try await expectFailure(["pool", device, folder.path("z.npy"), "--max", "--kernel", "2"], in: folder, mentions: [device, "a character device"],
                                timeout: 20)
    }

    /// Foundation errors (train --out, bench --json) are one line with the path and the reason, before any work.
    @Test func outputFoldersAreCheckedBeforeTheWork() async throws {
        let folder = try ScratchFolder()
        let file = folder.path("file.txt")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let train = try await CLI.run(["train", "--epochs", "1", "--out", file])
        #expect(train.status == 1 && train.stdout.isEmpty, "trained before failing: \(train.stdout)")
        #expect(train.errorLines == ["cnnkit: error: --out \(file): cannot create the folder (\(file): File exists)"], "\(train.stderr)")
        let bench = try await CLI.run(["bench", "--filter", "nomatch", "--json", folder.path("no/such/r.json")])
        #expect(bench.status == 64 && bench.stdout.isEmpty, "\(bench.stdout)")
        #expect(bench.errorLines.count == 1 && bench.stderr.contains("--json \(folder.path("no/such/r.json")): the folder"), "\(bench.stderr)")
    }

    @Test func anExistingOutputSurvivesAFailedRun() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("out.png")
        #expect(try await CLI.run(["pool", CLI.photo, out, "--max", "--kernel", "8"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let failed = try await CLI.run(["resize", CLI.fixture("gray4.png"), out, "--scale", "2", "--mode", "nearest"])
        #expect(failed.status != 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        #expect(folder.contents == ["out.png"])
    }

    // MARK: folders

    @Test func folderRunSkipsBadFilesAndSummarises() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        try FileManager.default.copyItem(atPath: CLI.photo, toPath: input.path("a-photo.png"))
        try Tensor(shape: [40, 30], repeating: 0.25).writeNPY(to: URL(fileURLWithPath: input.path("b-plane.npy")))
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: input.path("c-broken.png")))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: input.path("readme.txt")))
        try FileManager.default.copyItem(atPath: CLI.fixture("rgba8.png"), toPath: input.path("d-rgba.png"))

        let target = output.path("pooled")
        let result = try await CLI.run(["pool", input.url.path, target, "--avg", "--kernel", "2"])
        #expect(result.status != 0, "a failed file makes the run fail")
        #expect(result.errorLines.filter { $0.hasPrefix("cnnkit: error:") }.count == 1)
        #expect(result.stderr.contains("c-broken.png: not a PNG file"))
        #expect(result.stderr.contains("(skipped)"))
        #expect(result.stderr.contains("d-rgba.png: alpha channel dropped"))
        #expect(result.stdout.contains("3 of 4 files written"), "\(result.stdout)")
        let written = try FileManager.default.contentsOfDirectory(atPath: target).sorted()
        #expect(written == ["a-photo.png", "b-plane.npy", "d-rgba.png"])
        // An [H, W] .npy comes back as [H, W].
        #expect(try Tensor(npyFile: URL(fileURLWithPath: "\(target)/b-plane.npy")).shape == [20, 15])
        #expect(try readImage("\(target)/a-photo.png").shape == [1, 3, 150, 225])

        // The same folder in and out is refused (outputs keep the input names).
        let same = try await CLI.run(["pool", input.url.path, input.url.path, "--avg", "--kernel", "2"])
        #expect(same.status != 0)
        #expect(same.stderr.contains("must differ"))
    }

    // MARK: demo

    #if DEBUG
    static let isReleaseBuild = false
    #else
    static let isReleaseBuild = true
    #endif

    /// The demo runs the reference backend on the full photo, minutes in a debug build: CI runs `swift test -c release`.
    @Test(.enabled(if: isReleaseBuild, "cnnkit demo is tested in release builds only (swift test -c release)"))
    func demoWritesItsFilesAndTimesEveryBackend() async throws {
        let folder = try ScratchFolder()
        let result = try await CLI.run(["demo"], in: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        let files = ["0-input.png", "1-filter-sobel.png", "2-filter-gaussian2.png", "3-pool-max4.png",
                     "4-resize-bicubic-x2.png", "5-resize-area-quarter.png", "6-features.png"]
        for file in files {
            #expect(FileManager.default.fileExists(atPath: folder.path("cnnkit-demo/\(file)")), "\(file)")
            #expect(result.stdout.contains("wrote cnnkit-demo/\(file)"))
        }
        // One timing line per step and backend: "      NAME   12.3 ms …".
        for backend in BackendRegistry.shared.names {
            let timings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("      \(backend) ") }
            #expect(timings.count == 6, "\(backend): \(timings)")
        }
        #expect(try readImage(folder.path("cnnkit-demo/6-features.png")).shape == [1, 1, 2 * (300 + 27) + 12, 4 * 451 + 20])
        #expect(try readImage(folder.path("cnnkit-demo/0-input.png")) == (try readImage(CLI.photo)))
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
