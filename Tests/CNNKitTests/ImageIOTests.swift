import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// PNG and `.npy` reading and writing of CNNKitImageIO (the library under the `cnnkit` tool).
@Suite("image I/O")
struct ImageIOTests {
    @Test func sixteenBitGrayReadsAsValueOver65535() throws {
        let file = try ImageIO.read(CLI.fixture("gray16.png"))
        #expect(file.tensor.shape == [1, 1, 2, 3])
        #expect(file.tensor.scalars == [0, 1, 257, 32768, 65534, 65535].map { Float($0) / 65535 })
        #expect(file.notes.isEmpty)
    }

    @Test func rgbaDropsAlphaWithANote() throws {
        let file = try ImageIO.read(CLI.fixture("rgba8.png"))
        #expect(file.tensor.shape == [1, 3, 2, 2])
        #expect(file.tensor.scalars == [10, 40, 70, 250, 20, 50, 80, 251, 30, 60, 90, 252].map { Float($0) / 255 })
        #expect(file.notes.count == 1)
        #expect(file.notes.first?.contains("alpha channel dropped") == true)
    }

    @Test func the8BitPhotoRoundTripsExactly() throws {
        let folder = try ScratchFolder()
        let photo = try ImageIO.read(CLI.photo)
        #expect(photo.tensor.shape == [1, 3, 300, 451])
        #expect(photo.tensor.scalars.allSatisfy { ($0 * 255).rounded() / 255 == $0 }, "8-bit samples read as k / 255")
        try ImageIO.write(photo.tensor, to: folder.path("copy.png"))
        #expect(try ImageIO.read(folder.path("copy.png")).tensor == photo.tensor)
        #expect(folder.contents == ["copy.png"], "no temporary file left behind")
    }

    @Test func pngOutputClampsOrNormalises() throws {
        let tensor = try Tensor(shape: [1, 1, 1, 5], scalars: [-1, 0, 0.5, 1, 2])
        let clamped = try ImageIO.pngSamples(tensor, normalize: false, path: "x.png")
        #expect(clamped.samples == [0, 0, 128, 255, 255])
        let stretched = try ImageIO.pngSamples(tensor, normalize: true, path: "x.png")
        #expect(stretched.samples == [0, 85, 128, 170, 255])
        let flat = try ImageIO.pngSamples(try Tensor(shape: [2, 2], repeating: 7), normalize: true, path: "x.png")
        #expect(flat.samples == [0, 0, 0, 0])
        let nan = try ImageIO.pngSamples(try Tensor(shape: [1, 2], scalars: [.nan, 1]), normalize: false, path: "x.png")
        #expect(nan.samples == [0, 255])
        #expect(throws: ImageIOError.self) { try ImageIO.pngSamples(try Tensor(shape: [1, 2, 4, 4]), normalize: false, path: "x.png") }
        #expect(throws: ImageIOError.self) { try ImageIO.pngSamples(try Tensor(shape: [2, 3, 4, 4]), normalize: false, path: "x.png") }
    }

    @Test func npyKeepsItsRankAndValues() throws {
        let folder = try ScratchFolder()
        let plane = try Tensor(shape: [2, 3], scalars: [-5, 0, 1, 2, 3, 1000])
        try plane.writeNPY(to: URL(fileURLWithPath: folder.path("p.npy")))
        let file = try ImageIO.read(folder.path("p.npy"))
        #expect(file.tensor.shape == [1, 1, 2, 3])
        #expect(file.storedRank == 2)
        try ImageIO.write(file.tensor, to: folder.path("q.npy"), npyRank: file.storedRank)
        #expect(try Tensor(npyFile: URL(fileURLWithPath: folder.path("q.npy"))) == plane)
        try Tensor(shape: [2, 2, 2, 2, 2]).writeNPY(to: URL(fileURLWithPath: folder.path("r5.npy")))
        #expect { try ImageIO.read(folder.path("r5.npy")) } throws: { error in
            (error as? ImageIOError)?.kind == .unsupported && "\(error)".contains("[H, W], [C, H, W] or [N, C, H, W]")
        }
        try IndexTensor(shape: [2, 2], repeating: 1).writeNPY(to: URL(fileURLWithPath: folder.path("i.npy")))
        #expect { try ImageIO.read(folder.path("i.npy")) } throws: { error in
            (error as? ImageIOError)?.kind == .notRecognised && "\(error)".contains("<i8")
        }
    }

    /// Every prefix of a PNG is refused with a thrown error (libpng's longjmp stays inside the C shim).
    @Test func everyTruncationThrowsAndNeverCrashes() throws {
        let small = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("rgba8.png")))
        let photo = try Data(contentsOf: URL(fileURLWithPath: CLI.photo))
        let prefixes = (0..<small.count).map { small.prefix($0) } + stride(from: 0, to: 4000, by: 13).map { photo.prefix($0) }
            + [photo.prefix(photo.count - 1), photo.prefix(photo.count - 12)]
        for prefix in prefixes {
            #expect(throws: ImageIOError.self, "\(prefix.count) bytes") { try PNGCodec.decode(Data(prefix), path: "cut.png") }
        }
        #expect(try PNGCodec.decode(small, path: "whole.png").width == 2)
    }

    @Test func bitDepth4IsUnsupported() throws {
        #expect { try ImageIO.read(CLI.fixture("gray4.png")) } throws: { error in
            (error as? ImageIOError)?.kind == .unsupported && "\(error)".contains("bit depth 4")
        }
    }

    @Test func formatFollowsTheExtension() throws {
        #expect(try ImageFileFormat(path: "a/b.PNG") == .png)
        #expect(try ImageFileFormat(path: "x.npy") == .npy)
        #expect(try ImageFileFormat(path: "x.jpeg") == .jpeg)
        #expect { try ImageFileFormat(path: "x.tiff") } throws: { error in
            (error as? ImageIOError)?.kind == .unknownFormat && "\(error)".contains(".png, .jpg, .jpeg or .npy")
        }
    }
}
