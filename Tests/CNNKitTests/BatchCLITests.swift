import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// The `cnnkit` tool's run reporting (one success line, `--quiet`), JPEG files, folder pipelines, `--shard` and
/// `--skip-existing`; and the package's own files (manifest, license, notice, setup script).
@Suite("cnnkit batches and JPEG")
struct BatchCLITests {
    static func jpegFixture(_ name: String) -> String { fixturesURL.appendingPathComponent("jpeg/\(name)").path }

    @Test func aSuccessfulRunPrintsOneLineUnlessQuiet() async throws {
        let folder = try ScratchFolder()
        let out = folder.path("small.png")
        let run = try await CLI.run(["pool", CLI.photo, out, "--max", "--kernel", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stdout)")
        let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? -1
        let kilobytes = String(format: "%.1f KB", Double(size) / 1000)  // the photo's quarter is tens of kilobytes
        #expect(lines.first?.hasPrefix("cnnkit: wrote \(out) (225x150 RGB PNG, \(kilobytes)) in ") == true, "\(run.stdout)")
        #expect(run.stderr.isEmpty)

        let quiet = try await CLI.run(["pool", CLI.photo, folder.path("q.npy"), "--max", "--kernel", "2", "--quiet"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet.stdout)\(quiet.stderr)")
        let npy = try await CLI.run(["pool", CLI.photo, folder.path("n.npy"), "--max", "--kernel", "2"])
        #expect(npy.stdout.contains("(.npy [3, 150, 225], "), "\(npy.stdout)")
        // --quiet does not hide errors.
        let failed = try await CLI.run(["pool", folder.path("missing.png"), folder.path("x.png"), "--max", "--kernel", "2", "--quiet"])
        #expect(failed.status == 1 && failed.errorLines.count == 1 && failed.stdout.isEmpty)
    }

    /// A JPEG photo filtered and resized by the tool, compared with the library computing the same on the same
    /// decoded pixels (the JPEG decoder itself is checked against Pillow in JPEGTests).
    @Test func jpegInAndOut() async throws {
        let folder = try ScratchFolder()
        let photo = folder.path("photo.jpg")
        let write = try await CLI.run(["resize", CLI.photo, photo, "--scale", "1", "--mode", "nearest", "--quality", "95"])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(write.stdout.contains("451x300 RGB JPEG"), "\(write.stdout)")
        let decoded = try readImage(photo)
        #expect(maxAbsDifference(decoded, try readImage(CLI.photo)) < 0.35, "a quality-95 JPEG of the photo")

        let resized = try await CLI.run(["resize", photo, folder.path("half.npy"), "--scale", "0.5", "--mode", "area"])
        #expect(resized.status == 0, "\(resized.stderr)")
        let half = try Tensor(npyFile: URL(fileURLWithPath: folder.path("half.npy")))
        #expect(half.shape == [3, 150, 225])
        let block = (decoded[0, 1, 20, 30] + decoded[0, 1, 20, 31] + decoded[0, 1, 21, 30] + decoded[0, 1, 21, 31]) / 4
        #expect(abs(half[1, 10, 15] - block) < 1e-6)

        // A rotated phone photo comes out upright; --quality changes the file size; a bad quality is refused.
        let upright = try await CLI.run(["filter", Self.jpegFixture("orientation-6.jpg"), folder.path("u.npy"), "--kernel", "box:1"])
        #expect(upright.status == 0, "\(upright.stderr)")
        #expect(try Tensor(npyFile: URL(fileURLWithPath: folder.path("u.npy"))).shape == [3, 16, 24])
        for quality in ["30", "98"] {
            let run = try await CLI.run(["filter", photo, folder.path("q\(quality).jpg"), "--kernel", "gaussian:1", "--quality", quality])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let size = { (name: String) in (try FileManager.default.attributesOfItem(atPath: folder.path(name))[.size] as? Int) ?? 0 }
        #expect(try size("q30.jpg") * 2 < size("q98.jpg"))
        let bad = try await CLI.run(["filter", photo, folder.path("bad.jpg"), "--kernel", "sobel", "--quality", "0"])
        #expect(bad.status == 1 && bad.stderr.contains("--quality 0"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("bad.jpg")))
    }

    /// 64-bit FNV-1a, written here from its definition: the shard rule `--shard K/N` documents.
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// A folder of small inputs of every format.
    static func makeInputs(_ folder: ScratchFolder, count: Int) throws -> [String] {
        let photo = try readImage(CLI.photo)
        var names: [String] = []
        for index in 0..<count {
            let crop = try Tensor(
                shape: [1, 3, 20, 24],
                scalars: (0..<3).flatMap { c in (0..<20).flatMap { y in (0..<24).map { x in photo[0, c, y + 3 * index, x + 5 * index] } } })
            let name = ["img-\(index).png", "img-\(index).jpg", "img-\(index).npy"][index % 3]
            try ImageIO.write(crop, to: folder.path(name))
            names.append(name)
        }
        return names.sorted()
    }

    @Test func folderPipelineMatchesFileRuns() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        let names = try Self.makeInputs(input, count: 9)
        let target = output.path("out")
        let run = try await CLI.run(["filter", input.url.path, target, "--kernel", "sobel", "--normalize", "--time"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("9 of 9 files written to \(target) ("), "\(run.stdout)")
        #expect(run.stdout.split(separator: "\n").filter { $0.contains(": read ") && $0.contains(", write ") }.count == 9)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == names)
        for name in names {  // the pipeline writes exactly what a one-file run writes
            let single = output.path("single-\(name)")
            #expect(try await CLI.run(["filter", input.path(name), single, "--kernel", "sobel", "--normalize", "--quiet"]).status == 0)
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(target)/\(name)")), b = try Data(contentsOf: URL(fileURLWithPath: single))
            #expect(a == b, "\(name)")
        }
        let quiet = try await CLI.run(["filter", input.url.path, output.path("quiet"), "--kernel", "sobel", "--quiet"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty)
    }

    @Test func shardsSplitAFolderStablyAndCoverIt() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        let names = try Self.makeInputs(input, count: 12)
        var seen: [String] = []
        for k in 0..<3 {
            let target = output.path("shard-\(k)")
            let run = try await CLI.run(["pool", input.url.path, target, "--avg", "--kernel", "2", "--shard", "\(k)/3"])
            #expect(run.status == 0, "\(run.stderr)")
            let written = ((try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []).sorted()
            #expect(written == names.filter { Self.fnv1a($0) % 3 == UInt64(k) }, "shard \(k)/3 follows FNV-1a of the name")
            #expect(run.stdout.contains("shard \(k)/3 (\(written.count) of 12 files): \(written.count) of \(written.count) files written"), "\(run.stdout)")
            seen += written
        }
        #expect(seen.sorted() == names, "the shards are disjoint and cover the folder")
        #expect(Self.fnv1a("a") == 0xaf63_dc4c_8601_ec8c, "the FNV-1a test vector")
        for bad in ["3/3", "-1/3", "1/0", "x", "1/2/3"] {
            let run = try await CLI.run(["pool", input.url.path, output.path("bad"), "--avg", "--kernel", "2", "--shard=\(bad)"])
            #expect(run.status != 0 && run.stderr.contains("--shard \(bad)"), "\(bad): \(run.stderr)")
        }
        let file = try await CLI.run(["pool", CLI.photo, output.path("f.png"), "--avg", "--kernel", "2", "--shard", "0/2"])
        #expect(file.status != 0 && file.stderr.contains("needs an input folder"))
    }

    @Test func skipExistingResumesARun() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        let names = try Self.makeInputs(input, count: 6)
        let target = output.path("out")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        // Two outputs exist already (as after an interrupted run): they are kept as they are, the rest is written.
        try Data("kept".utf8).write(to: URL(fileURLWithPath: "\(target)/\(names[0])"))
        try Data("kept".utf8).write(to: URL(fileURLWithPath: "\(target)/\(names[4])"))
        let run = try await CLI.run(["resize", input.url.path, target, "--scale", "2", "--mode", "nearest", "--skip-existing"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("4 of 4 files written") && run.stdout.contains("2 skipped (output exists)"), "\(run.stdout)")
        #expect(try String(contentsOfFile: "\(target)/\(names[0])", encoding: .utf8) == "kept")
        #expect(try readImage("\(target)/\(names[1])").shape == [1, 3, 40, 48])
        let again = try await CLI.run(["resize", input.url.path, target, "--scale", "2", "--mode", "nearest", "--skip-existing"])
        #expect(again.stdout.contains("0 of 0 files written") && again.stdout.contains("6 skipped"), "\(again.stdout)")
        // Without the flag, existing outputs are replaced; with it, a single existing file is left alone.
        let file = try await CLI.run(["resize", input.path(names[0]), "\(target)/\(names[0])", "--scale", "2", "--mode", "nearest", "--skip-existing"])
        #expect(file.status == 0 && file.stdout.contains("exists; skipped"))
        #expect(try String(contentsOfFile: "\(target)/\(names[0])", encoding: .utf8) == "kept")
        #expect(try await CLI.run(["resize", input.url.path, target, "--scale", "2", "--mode", "nearest"]).status == 0)
        #expect(try readImage("\(target)/\(names[0])").shape == [1, 3, 40, 48])
    }

    /// Issue 13: SIGINT or SIGTERM during a folder run left hidden temporary files (3 of 9 runs). Each run here is
    /// signalled at a random moment after the first output appeared, while the writer is busy with 15 MB .npy
    /// files; it must exit with 128 + the signal number, leave no hidden file, and every output it left must be
    /// complete. (Before the fix, 8 of 12 such runs left a `.NAME.tmp-XXXXXX` file.)
    @Test func interruptedFolderRunsLeaveNoTemporaryFiles() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        // The photo as [3, 300, 451]; ×3 nearest → [3, 900, 1353] = 14.6 MB per output.
        let photo = try Tensor(shape: [3, 300, 451], scalars: try readImage(CLI.photo).scalars)
        // Enough files that a loaded machine (the suite runs tests in parallel) cannot finish before the signal.
        for index in 0..<40 { try photo.writeNPY(to: URL(fileURLWithPath: input.path("img-\(index).npy"))) }
        var interrupted = 0
        for run in 0..<8 {
            let (signal, name) = run % 2 == 0 ? (SIGINT, "SIGINT") : (SIGTERM, "SIGTERM")
            let target = output.path("run-\(run)")
            // Bicubic on one thread: each file takes long enough that the signal lands mid-run even when this test
            // process is starved of CPU by the tests running beside it.
            let cli = try BackgroundCLI(["resize", input.url.path, target, "--scale", "3", "--mode", "bicubic", "--threads", "1", "--quiet"])
            // Wait for the first file (complete or temporary) in the output folder, then a random part of a write.
            let started = Date()
            while ((try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []).isEmpty && cli.process.isRunning
                && Date().timeIntervalSince(started) < 60 {
                try await Task.sleep(for: .milliseconds(2))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150)))
            // A run this process could not signal in time (it was not scheduled) proves nothing either way.
            guard cli.process.isRunning else {
                _ = try await cli.finish(within: 60)
                try? FileManager.default.removeItem(atPath: target)
                continue
            }
            interrupted += 1
            let masks = ((try? String(contentsOfFile: "/proc/\(cli.process.processIdentifier)/status", encoding: .utf8)) ?? "")
                .split(separator: "\n").filter { $0.hasPrefix("SigBlk") || $0.hasPrefix("SigIgn") }.joined(separator: " ")
            kill(cli.process.processIdentifier, signal)
            let (status, stderr) = try await cli.finish(within: 30)
            #expect(status == 128 + signal, "run \(run): \(name) gave status \(status.map(String.init) ?? "none (killed by the signal or still running)") (\(masks))")
            #expect(stderr.contains("interrupted by \(name)"), "run \(run): \(stderr)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
            #expect(left.filter { $0.hasPrefix(".") }.isEmpty, "run \(run) (\(name)) left \(left.filter { $0.hasPrefix(".") })")
            for file in left where !file.hasPrefix(".") {
                #expect(try Tensor(npyFile: URL(fileURLWithPath: "\(target)/\(file)")).shape == [3, 900, 1353], "run \(run): \(file) is complete")
            }
            try? FileManager.default.removeItem(atPath: target)
        }
        #expect(interrupted >= 4, "only \(interrupted) of 8 runs were still running when signalled: make the work larger")
    }

    /// Issue 13: a folder run of `features` skipped an image too small for the pooling window without naming it.
    /// Every skipped file of a folder run is named with its path and the reason; a FIFO in the folder does not
    /// block the run.
    @Test func folderRunsNameEverySkippedFile() async throws {
        let input = try ScratchFolder(), output = try ScratchFolder()
        try Tensor(shape: [1, 1], scalars: [0.5]).writeNPY(to: URL(fileURLWithPath: input.path("a-tiny.npy")))
        try Tensor(shape: [4, 1, 8, 8], repeating: 0.5).writeNPY(to: URL(fileURLWithPath: input.path("b-batch.npy")))
        #expect(mkfifo(input.path("c-pipe.png"), 0o644) == 0)
        _ = try Self.makeInputs(input, count: 1)  // img-0.png
        let target = output.path("sheets")
        let run = try await CLI.run(["features", input.url.path, target, "--kernels", "sobel-x,sobel-y"], timeout: 30)
        #expect(run.status == 1)
        let errors = run.errorLines.filter { $0.hasPrefix("cnnkit: error: ") }
        #expect(errors.count == 3, "\(run.stderr)")
        #expect(errors.contains("cnnkit: error: \(input.path("a-tiny.npy")): --pool 2: the image (1x1) is smaller than one pooling window (skipped)"),
                "\(run.stderr)")
        #expect(errors.contains { $0.contains(input.path("b-batch.npy")) && $0.contains("a batch of 4") }, "\(run.stderr)")
        #expect(errors.contains { $0.contains(input.path("c-pipe.png")) && $0.contains("a FIFO") }, "\(run.stderr)")
        #expect(run.stdout.contains("1 of 4 files written") && run.stdout.contains("3 failed (a-tiny.npy, b-batch.npy, c-pipe.png)"), "\(run.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["img-0.png"])
    }

    // MARK: the package's own files

    @Test func manifestLicenseAndNotice() throws {
        let root = CLI.packageRoot
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.hasPrefix("// swift-tools-version: 6.2"), "tools version 6.2 lets a from: dependency use the C target's unsafe flags")
        #expect(manifest.contains(#".library(name: "CNNKitImageIO""#))
        let license = try String(contentsOf: root.appendingPathComponent("LICENSE"), encoding: .utf8)
        #expect(license.contains("Apache License") && license.contains("Version 2.0, January 2004"))
        #expect(license.contains("END OF TERMS AND CONDITIONS") && license.count > 11_000, "the full text")
        let notice = try String(contentsOf: root.appendingPathComponent("NOTICE"), encoding: .utf8)
        // Every bundled photo and every fixture folder is listed.
        let resources = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources/cnnkit/Resources").path)
        for file in resources where !file.hasSuffix(".md") { #expect(notice.contains("Sources/cnnkit/Resources/\(file)"), "\(file)") }
        let fixtures = root.appendingPathComponent("Tests/CNNKitTests/Fixtures")
        var folders = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { !$0.hasSuffix(".md") }
        folders += try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("conformance").path)
            .filter { !$0.hasSuffix(".md") }.map { "conformance/\($0)" }
        for folder in folders where folder != "conformance" {
            #expect(notice.contains("Tests/CNNKitTests/Fixtures/\(folder)/"), "NOTICE lists Fixtures/\(folder)")
        }
        for source in ["astronaut.png", "camera.png", "chelsea.png", "1.23.2", "onnxruntime 1.32.0", "Apache License 2.0", "CC0"] {
            #expect(notice.contains(source), "NOTICE names \(source)")
        }
    }

    /// The setup script prints nothing when it succeeds and apt's whole log when apt fails (fake apt-get and
    /// dpkg-query on PATH, so nothing is installed).
    @Test func setupScriptIsQuietUnlessItFails() async throws {
        let fake = try ScratchFolder()
        func tool(_ name: String, _ body: String) throws {
            try "#!/bin/sh\n\(body)\n".write(toFile: fake.path(name), atomically: true, encoding: .utf8)
            chmod(fake.path(name), 0o755)
        }
        try tool("dpkg-query", "exit 1")  // nothing installed
        try tool("sudo", "exec \"$@\"")
        func run(aptExit: Int) throws -> (status: Int32, output: String) {
            try tool("apt-get", "echo \"apt noise $*\"; echo 'E: Can not write log' >&2; exit \(aptExit)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [CLI.packageRoot.appendingPathComponent("scripts/setup.sh").path]
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = "\(fake.url.path):\(environment["PATH"] ?? "/usr/bin:/bin")"
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let success = try run(aptExit: 0)
        #expect(success.status == 0 && success.output.isEmpty, "silent on success: \(success.output)")
        let failure = try run(aptExit: 100)
        #expect(failure.status != 0)
        #expect(failure.output.contains("apt noise") && failure.output.contains("E: Can not write log"), "\(failure.output)")
        #expect(failure.output.contains("scripts/setup.sh: installing") && failure.output.contains("failed"), "\(failure.output)")
    }
}
