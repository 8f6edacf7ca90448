import CTurboJPEG
import Foundation

/// JPEG decoding and encoding through libjpeg-turbo's TurboJPEG API (Debian `libturbojpeg0-dev`).
///
/// - Read: 8-bit baseline and progressive JPEG, grayscale (1 channel) or colour (YCbCr, decoded to 3 RGB
///   channels), with libjpeg's accurate integer IDCT and smooth ("fancy") chroma up-sampling — the defaults of
///   libjpeg, Pillow and OpenCV. The EXIF orientation tag (APP1 `Exif`, tag 0x0112) is applied, so the pixels come
///   out upright, as a photo viewer shows them. CMYK / YCCK JPEGs are refused as unsupported.
/// - Write: 8-bit gray (C = 1) or RGB (C = 3, YCbCr with 4:2:0 chroma sub-sampling, as cameras, Pillow and
///   libjpeg's `cjpeg` write by default), at a quality of 1…100 (``ImageIO/defaultJPEGQuality`` = 92). JPEG is
///   lossy: a written image reads back close to, not equal to, what was written.
///
/// TurboJPEG catches libjpeg's errors inside the library, so a truncated or corrupt file throws an
/// ``ImageIOError``; it never crashes.
public enum JPEGCodec {
    /// A decoded JPEG: samples in `[0, 1]`, planar `[C, H, W]`, after the EXIF orientation was applied.
    public struct Decoded: Sendable {
        /// Float32 samples, `[channels, height, width]` in C order, value / 255.
        public var planes: [Float]
        /// Pixels per row (after orientation).
        public var width: Int
        /// Rows (after orientation).
        public var height: Int
        /// 1 (gray) or 3 (RGB).
        public var channels: Int
        /// The EXIF orientation found in the file, 1…8 (1 = upright, also when the file has no EXIF data).
        public var orientation: Int
        /// libjpeg's warnings about a damaged but decodable file (extraneous bytes before a marker, …).
        public var warnings: [String]
    }

    /// The largest pixel buffer decoded or encoded (1 GiB), as for PNG.
    static let maxBytes = 1 << 30

    /// Whether `data` starts with a JPEG start-of-image marker (`FF D8 FF`).
    public static func hasSignature(_ data: Data) -> Bool {
        data.count >= 3 && data[data.startIndex] == 0xFF && data[data.startIndex + 1] == 0xD8 && data[data.startIndex + 2] == 0xFF
    }

    /// Decodes JPEG bytes to planar float samples in `[0, 1]`, applying the EXIF orientation.
    /// - Parameters:
    ///   - data: the bytes of a JPEG file.
    ///   - path: the file name used in error messages.
    /// - Throws: ``ImageIOError`` (`.notRecognised` without a JPEG signature, `.corrupt` for a truncated or damaged
    ///   file, `.unsupported` for CMYK and oversized images).
    public static func decode(_ data: Data, path: String) throws(ImageIOError) -> Decoded {
        guard hasSignature(data) else {
            throw ImageIOError(.notRecognised, path: path, problem: "not a JPEG file (no JPEG start-of-image marker)")
        }
        let decoded = data.withUnsafeBytes { raw -> Result<(pixels: [UInt8], width: Int, height: Int, channels: Int, warnings: [String]), ImageIOError> in
            decodeInterleaved(raw.bindMemory(to: UInt8.self), path: path)
        }
        var (pixels, width, height, channels, warnings) = try decoded.get()
        let orientation = data.withUnsafeBytes { raw in exifOrientation(raw.bindMemory(to: UInt8.self)) } ?? 1
        if orientation != 1 {
            (pixels, width, height) = reorient(pixels, width: width, height: height, channels: channels, orientation: orientation)
        }
        let planes = ImageIO.planarFloats(pixels, channels: channels, plane: width * height)
        return Decoded(
            planes: planes, width: width, height: height, channels: channels, orientation: orientation, warnings: warnings)
    }

    private static func message(_ handle: tjhandle?) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "libjpeg-turbo error" }
        return String(cString: text)
    }

    private static func decodeInterleaved(
        _ bytes: UnsafeBufferPointer<UInt8>, path: String
    ) -> Result<(pixels: [UInt8], width: Int, height: Int, channels: Int, warnings: [String]), ImageIOError> {
        guard let handle = tjInitDecompress() else {
            return .failure(ImageIOError(.unreadable, path: path, problem: "cannot start the JPEG decoder (\(message(nil)))"))
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, bytes.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace) == 0 else {
            return .failure(ImageIOError(.corrupt, path: path, problem: "truncated or corrupt JPEG (\(message(handle)))"))
        }
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            return .failure(ImageIOError(
                .unsupported, path: path, problem: "CMYK JPEG is not supported (expected a grayscale or colour JPEG)"))
        }
        let channels = colorspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3
        guard width > 0, height > 0 else {
            return .failure(ImageIOError(.corrupt, path: path, problem: "truncated or corrupt JPEG (\(width)x\(height) pixels)"))
        }
        let (w, h) = (Int(width), Int(height))
        guard w * channels <= maxBytes / h else {
            return .failure(ImageIOError(
                .unsupported, path: path,
                problem: "image too large (\(w) x \(h) x \(channels) channels; limit \(maxBytes) bytes)"))
        }
        let format = channels == 1 ? TJPF_GRAY : TJPF_RGB
        var status: Int32 = 0
        var pixels = [UInt8](repeating: 0, count: w * h * channels)
        pixels.withUnsafeMutableBufferPointer { out in
            status = tjDecompress2(handle, bytes.baseAddress, UInt(bytes.count), out.baseAddress, width, 0, height,
                                   Int32(format.rawValue), TJFLAG_ACCURATEDCT)
        }
        var warnings: [String] = []
        if status != 0 {
            let text = message(handle)
            // A warning leaves a decoded image; a premature end of data means missing pixels (filled with gray by
            // libjpeg), which is a truncated file, not a warning.
            let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            if !isWarning || text.localizedCaseInsensitiveContains("premature end") {
                return .failure(ImageIOError(.corrupt, path: path, problem: "truncated or corrupt JPEG (\(text))"))
            }
            warnings.append(text)
        }
        return .success((pixels, w, h, channels, warnings))
    }

    /// Encodes 8-bit interleaved samples (`channels` 1 gray or 3 RGB) as a JPEG file in memory.
    /// - Parameters:
    ///   - samples: `height` rows of `width` pixels of `channels` samples, top row first.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - channels: 1 (gray) or 3 (RGB).
    ///   - quality: 1…100 (libjpeg's scale; 92 by default in CNNKit).
    ///   - path: the file name used in error messages.
    /// - Throws: ``ImageIOError`` of kind `.unrepresentable` for a bad quality, channel count or size.
    public static func encode(
        samples: [UInt8], width: Int, height: Int, channels: Int, quality: Int = ImageIO.defaultJPEGQuality, path: String
    ) throws(ImageIOError) -> Data {
        guard (1...100).contains(quality) else {
            throw ImageIOError(.unrepresentable, path: path, problem: "JPEG quality \(quality); expected 1…100")
        }
        guard width > 0, height > 0, channels == 1 || channels == 3, width <= 65_500, height <= 65_500,
              samples.count == width * height * channels
        else {
            throw ImageIOError(
                .unrepresentable, path: path,
                problem: "cannot encode a \(width)x\(height) image with \(channels) channels as JPEG (needs 1 or 3 channels, at most 65500 pixels a side)")
        }
        guard let handle = tjInitCompress() else {
            throw ImageIOError(.unwritable, path: path, problem: "cannot start the JPEG encoder (\(message(nil)))")
        }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = samples.withUnsafeBufferPointer { buffer in
            tjCompress2(
                handle, buffer.baseAddress, Int32(width), 0, Int32(height),
                Int32((channels == 1 ? TJPF_GRAY : TJPF_RGB).rawValue), &output, &size,
                Int32((channels == 1 ? TJSAMP_GRAY : TJSAMP_420).rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { tjFree(output) }
        guard status == 0, let output else {
            throw ImageIOError(.unrepresentable, path: path, problem: "JPEG encoding failed (\(message(handle)))")
        }
        return Data(bytes: output, count: Int(size))
    }

    // MARK: EXIF orientation

    /// The EXIF orientation (1…8) of a JPEG file: tag 0x0112 of IFD0 in the first APP1 `Exif` segment before the
    /// image data, or nil when there is none or it is malformed. Every read is bounds-checked.
    public static func exifOrientation(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var offset = 2
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return nil }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image: no EXIF before it
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { return nil }
            let start = offset + 4, end = offset + 2 + length
            if marker == 0xE1, end - start >= 6,
               bytes[start] == 0x45, bytes[start + 1] == 0x78, bytes[start + 2] == 0x69, bytes[start + 3] == 0x66,
               bytes[start + 4] == 0, bytes[start + 5] == 0 {
                return tiffOrientation(UnsafeBufferPointer(rebasing: bytes[(start + 6)..<end]))
            }
            offset = end
        }
        return nil
    }

    /// Tag 0x0112 (SHORT, count 1) of IFD0 of a TIFF structure ("II" or "MM" byte order).
    static func tiffOrientation(_ tiff: UnsafeBufferPointer<UInt8>) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for entry in 0..<entries {
            let at = ifd + 2 + 12 * entry
            guard let tag = u16(at), let type = u16(at + 2), let count = u32(at + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            guard type == 3, count == 1, let value = u16(at + 8), (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }

    /// Interleaved pixels transformed so that an image stored with EXIF `orientation` appears upright.
    ///
    /// 2 mirrors left–right, 3 rotates 180°, 4 mirrors top–bottom, 5 transposes, 6 rotates 90° clockwise,
    /// 7 transverses (the anti-diagonal mirror), 8 rotates 90° counter-clockwise (as `PIL.ImageOps.exif_transpose`).
    public static func reorient(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int, orientation: Int
    ) -> (pixels: [UInt8], width: Int, height: Int) {
        guard (2...8).contains(orientation) else { return (pixels, width, height) }
        let swapsAxes = orientation >= 5
        let (outWidth, outHeight) = swapsAxes ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sy, sx): (Int, Int)
                        switch orientation {
                        case 2: (sy, sx) = (y, width - 1 - x)
                        case 3: (sy, sx) = (height - 1 - y, width - 1 - x)
                        case 4: (sy, sx) = (height - 1 - y, x)
                        case 5: (sy, sx) = (x, y)
                        case 6: (sy, sx) = (height - 1 - x, y)
                        case 7: (sy, sx) = (height - 1 - x, width - 1 - y)
                        default: (sy, sx) = (x, width - 1 - y)  // 8
                        }
                        let from = (sy * width + sx) * channels, to = (y * outWidth + x) * channels
                        for c in 0..<channels { destination[to + c] = source[from + c] }
                    }
                }
            }
        }
        return (out, outWidth, outHeight)
    }
}
