import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// JPEG reading (checked against Pillow's decoding of the same files, `Fixtures/jpeg/make_fixtures.py`), EXIF
/// orientation, writing with a quality, and refusal of damaged files.
@Suite("JPEG")
struct JPEGTests {
    static func fixture(_ name: String) -> String { fixturesURL.appendingPathComponent("jpeg/\(name)").path }

    /// Pillow's decoding of a fixture as `[1, C, H, W]` in `[0, 1]` (stored as uint8 `[C, H, W]`).
    static func pillow(_ name: String) throws -> Tensor {
        let stored = try Tensor(npyFile: URL(fileURLWithPath: fixture(name)))
        return try Tensor(shape: [1] + stored.shape, scalars: stored.scalars.map { $0 / 255 })
    }

    /// The decoders agree to 1/255: both are libjpeg-turbo with the accurate integer IDCT and fancy up-sampling;
    /// a larger difference would mean a different IDCT, up-sampling or colour conversion.
    @Test(arguments: [("rgb.jpg", 3), ("rgb444-progressive.jpg", 3), ("gray.jpg", 1)])
    func decodesAsPillowDoes(name: String, channels: Int) throws {
        let file = try ImageIO.read(Self.fixture(name))
        #expect(file.format == .jpeg && file.storedRank == 3 && file.notes.isEmpty)
        #expect(file.tensor.shape == [1, channels, 48, 64])
        let expected = try Self.pillow(name.replacingOccurrences(of: ".jpg", with: ".npy"))
        #expect(maxAbsDifference(file.tensor, expected) <= 1.0 / 255 + 1e-7, "\(name): max |CNNKit − Pillow|")
        #expect(file.tensor.scalars.allSatisfy { ($0 * 255).rounded() / 255 == $0 }, "8-bit samples read as k / 255")
    }

    @Test(arguments: 1...8)
    func exifOrientationIsApplied(orientation: Int) throws {
        let name = "orientation-\(orientation).jpg"
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture(name)))
        #expect(data.withUnsafeBytes { JPEGCodec.exifOrientation($0.bindMemory(to: UInt8.self)) } == orientation)
        let decoded = try JPEGCodec.decode(data, path: name)
        #expect(decoded.orientation == orientation)
        let image = try ImageIO.load(URL(fileURLWithPath: Self.fixture(name)))
        #expect(image.shape == [1, 3, 16, 24], "upright: 24×16 whatever the stored orientation")
        let expected = try Self.pillow("orientation-\(orientation).npy")
        #expect(maxAbsDifference(image, expected) <= 1.0 / 255 + 1e-7, "orientation \(orientation) vs Pillow's exif_transpose")
        // Every variant shows the same upright picture (up to JPEG loss of the differently stored pixels).
        let upright = try Self.pillow("orientation-1.npy")
        let mean = zip(image.scalars, upright.scalars).reduce(Float(0)) { $0 + abs($1.0 - $1.1) } / Float(image.count)
        #expect(mean < 0.03, "orientation \(orientation): mean |Δ| from the upright variant = \(mean)")
    }

    /// The APP1 parser: big-endian ("MM") TIFF data, a malformed tag, and a file without EXIF.
    @Test func exifParserHandlesByteOrdersAndJunk() throws {
        func jpeg(withExif tiff: [UInt8]) -> [UInt8] {
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            let length = payload.count + 2
            return [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
                + [0xFF, 0xDA, 0, 2]
        }
        // "MM", 42, IFD0 at 8: 2 entries, Make (ASCII) then Orientation = 6.
        let bigEndian: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 2,
                                  0x01, 0x0F, 0, 2, 0, 0, 0, 4, 0x41, 0x42, 0x43, 0,
                                  0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]
        let parse = { (bytes: [UInt8]) in bytes.withUnsafeBufferPointer { JPEGCodec.exifOrientation($0) } }
        #expect(parse(jpeg(withExif: bigEndian)) == 6)
        var badValue = bigEndian
        badValue[31] = 9  // orientation 9 does not exist
        #expect(parse(jpeg(withExif: badValue)) == nil)
        var badOffset = bigEndian
        badOffset[7] = 200  // IFD0 past the end
        #expect(parse(jpeg(withExif: badOffset)) == nil)
        for cut in 0..<bigEndian.count { _ = parse(jpeg(withExif: Array(bigEndian.prefix(cut)))) }  // never traps
        let plain = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("rgb.jpg")))
        #expect(plain.withUnsafeBytes { JPEGCodec.exifOrientation($0.bindMemory(to: UInt8.self)) } == nil)
    }

    @Test func reorientMatchesTheDefinitions() {
        // 3×2 image, one channel: values 0 1 2 / 3 4 5.
        let pixels: [UInt8] = [0, 1, 2, 3, 4, 5]
        let cases: [Int: (width: Int, height: Int, pixels: [UInt8])] = [
            1: (3, 2, [0, 1, 2, 3, 4, 5]), 2: (3, 2, [2, 1, 0, 5, 4, 3]), 3: (3, 2, [5, 4, 3, 2, 1, 0]),
            4: (3, 2, [3, 4, 5, 0, 1, 2]), 5: (2, 3, [0, 3, 1, 4, 2, 5]), 6: (2, 3, [3, 0, 4, 1, 5, 2]),
            7: (2, 3, [5, 2, 4, 1, 3, 0]), 8: (2, 3, [2, 5, 1, 4, 0, 3]),
        ]
        for (orientation, want) in cases {
            let got = JPEGCodec.reorient(pixels, width: 3, height: 2, channels: 1, orientation: orientation)
            #expect(got.width == want.width && got.height == want.height && got.pixels == want.pixels, "orientation \(orientation)")
        }
    }

    @Test func writeReadsBackCloseAndQualityMatters() throws {
        let folder = try ScratchFolder()
        let photo = try ImageIO.load(URL(fileURLWithPath: CLI.photo))
        try ImageIO.save(photo, to: folder.url.appendingPathComponent("q92.jpg"))
        try ImageIO.write(photo, to: folder.path("q40.JPEG"), quality: 40)
        let high = try ImageIO.read(folder.path("q92.jpg"))
        #expect(high.tensor.shape == photo.shape)
        let meanError = zip(high.tensor.scalars, photo.scalars).reduce(Float(0)) { $0 + abs($1.0 - $1.1) } / Float(photo.count)
        #expect(meanError < 0.02, "quality 92: mean |Δ| = \(meanError)")
        let size = { (name: String) in (try FileManager.default.attributesOfItem(atPath: folder.path(name))[.size] as? Int) ?? 0 }
        #expect(try size("q40.JPEG") < size("q92.jpg") * 2 / 3, "a lower quality writes a smaller file")
        #expect(folder.contents == ["q40.JPEG", "q92.jpg"], "no temporary file left behind")

        // A gray image stays one channel; values outside [0, 1] clamp.
        let ramp = try Tensor(shape: [1, 1, 16, 16], scalars: (0..<256).map { Float($0) / 127.5 - 0.5 })
        try ImageIO.write(ramp, to: folder.path("gray.jpg"), quality: 100)
        let gray = try ImageIO.read(folder.path("gray.jpg")).tensor
        #expect(gray.shape == [1, 1, 16, 16])
        #expect(maxAbsDifference(gray, try Tensor(shape: [1, 1, 16, 16], scalars: ramp.scalars.map { min(max($0, 0), 1) })) < 0.04)
    }

    @Test func badQualityShapeAndFilesAreRefused() throws {
        let folder = try ScratchFolder()
        let image = try Tensor(shape: [1, 3, 8, 8], repeating: 0.5)
        for quality in [0, 101, -5] {
            #expect { try ImageIO.write(image, to: folder.path("x.jpg"), quality: quality) } throws: { error in
                (error as? ImageIOError)?.kind == .unrepresentable && "\(error)".contains("quality \(quality)")
            }
        }
        #expect(throws: ImageIOError.self) { try ImageIO.write(try Tensor(shape: [1, 2, 8, 8]), to: folder.path("x.jpg")) }
        #expect(folder.contents.isEmpty)

        #expect { try ImageIO.read(CLI.photo.replacingOccurrences(of: ".png", with: ".jpg")) } throws: { error in
            (error as? ImageIOError)?.kind == .missingFile
        }
        // A PNG named .jpg, and every prefix of a JPEG: thrown errors, never a crash or a silently gray image.
        #expect { try JPEGCodec.decode(try Data(contentsOf: URL(fileURLWithPath: CLI.photo)), path: "p.jpg") } throws: { error in
            (error as? ImageIOError)?.kind == .notRecognised && "\(error)".contains("not a JPEG")
        }
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("rgb.jpg")))
        for length in 0..<(jpeg.count - 2) {
            #expect(throws: ImageIOError.self, "\(length) bytes") { try JPEGCodec.decode(jpeg.prefix(length), path: "cut.jpg") }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {  // random damage: an error or a decoded image, never a crash
            var damaged = jpeg
            damaged[Int.random(in: 2..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = try? JPEGCodec.decode(damaged, path: "damaged.jpg")
        }
    }

    @Test func formatsFollowTheExtension() throws {
        for name in ["a.jpg", "b.JPG", "c.jpeg", "d.JpEg"] { #expect(try ImageFileFormat(path: name) == .jpeg) }
        #expect(throws: ImageIOError.self) { try ImageFileFormat(path: "x.jfif") }
    }
}
