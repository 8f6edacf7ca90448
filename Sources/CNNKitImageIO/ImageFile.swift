import CNNKitCore
import Foundation

/// The file formats CNNKit reads and writes; the format always follows the file extension.
public enum ImageFileFormat: String, Sendable, Hashable, CaseIterable {
    /// PNG (`.png`): 8-bit or 16-bit gray / RGB (alpha dropped) on read, 8-bit gray or RGB on write.
    case png
    /// JPEG (`.jpg`, `.jpeg`): 8-bit gray or RGB, EXIF orientation applied on read; quality 1…100 on write.
    case jpeg
    /// NumPy `.npy`: `[H, W]`, `[C, H, W]` or `[N, C, H, W]`, raw values; float32, float64 (converted to float32)
    /// or uint8 on read, float32 on write.
    case npy

    /// The extensions of each format, lower case, without the dot.
    public var extensions: [String] {
        switch self {
        case .png: return ["png"]
        case .jpeg: return ["jpg", "jpeg"]
        case .npy: return ["npy"]
        }
    }

    /// The format of `path` from its extension (case-insensitive): `.png`, `.jpg` / `.jpeg`, `.npy`.
    /// - Throws: ``ImageIOError`` of kind `.unknownFormat` for any other extension.
    public init(path: String) throws(ImageIOError) {
        let pathExtension = (path as NSString).pathExtension.lowercased()
        guard let format = Self.allCases.first(where: { $0.extensions.contains(pathExtension) }) else {
            throw ImageIOError(
                .unknownFormat, path: path, problem: "unknown file type (expected a .png, .jpg, .jpeg or .npy file name)")
        }
        self = format
    }

    /// Whether `path` has a `.png`, `.jpg`, `.jpeg` or `.npy` extension.
    public static func isSupported(_ path: String) -> Bool { (try? ImageFileFormat(path: path)) != nil }
}

/// An image or tensor read from a file, as a CNNKit feature map.
public struct ImageFile: Sendable {
    /// `[N, C, H, W]`: pixels in `[0, 1]` for PNG and JPEG (N = 1), raw values for `.npy`.
    public var tensor: Tensor
    /// The format it was read from.
    public var format: ImageFileFormat
    /// The rank as stored: 2, 3 or 4 for `.npy`; 3 (`[C, H, W]`) for PNG and JPEG. Outputs written as `.npy` keep
    /// this rank when the batch and channel counts allow it.
    public var storedRank: Int
    /// Things the user should know, e.g. that an alpha channel was dropped.
    public var notes: [String]

    /// An image file's contents; `tensor` must be `[N, C, H, W]`.
    public init(tensor: Tensor, format: ImageFileFormat, storedRank: Int, notes: [String] = []) {
        self.tensor = tensor
        self.format = format
        self.storedRank = storedRank
        self.notes = notes
    }
}

/// Loading and saving images and arrays as CNNKit tensors: PNG, JPEG and NumPy `.npy`.
///
/// - PNG in: 8- or 16-bit gray, gray+alpha, RGB, RGBA or 8-bit palette; samples map to `value / 255` or
///   `value / 65535`; an alpha channel is dropped (with a note). Bit depths 1, 2 and 4 are refused.
/// - JPEG in: 8-bit gray or colour (RGB), `value / 255`, turned upright by its EXIF orientation (see ``JPEGCodec``).
/// - PNG and JPEG out: one image `[1, C, H, W]` (or `[C, H, W]`, `[H, W]`) with C = 1 (gray) or 3 (RGB); values are
///   clamped to `[0, 1]` and scaled to 0–255, or min–max stretched when `normalize` is set. NaN writes as 0.
///   JPEG is written at `quality` (default ``defaultJPEGQuality``, 92); PNG with a fast zlib setting (see
///   ``PNGCodec``).
/// - `.npy` in: `[H, W]`, `[C, H, W]` or `[N, C, H, W]` of float32, float64 (converted to float32) or uint8, either
///   byte order, C or Fortran order; raw values (not scaled). `.npy` out: float32, little-endian, C order.
///
/// Every write goes to a temporary file in the destination folder and is renamed into place, so a failed run never
/// leaves a partial output file.
public enum ImageIO {
    /// The JPEG quality used when none is given: 92 (on libjpeg's 1…100 scale).
    public static let defaultJPEGQuality = 92

    /// Loads the image or array file at `url` as an `[N, C, H, W]` tensor (`[1, C, H, W]` with values in `[0, 1]` for PNG and
    /// JPEG). Notes such as a dropped alpha channel are discarded; ``read(_:)`` returns them.
    /// - Throws: ``ImageIOError`` naming the file.
    public static func load(_ url: URL) throws(ImageIOError) -> Tensor { try read(url.path).tensor }

    /// Saves `tensor` to `url` in the format of its extension, atomically.
    /// - Parameters:
    ///   - tensor: `[1, C, H, W]`, `[C, H, W]` or `[H, W]` (C = 1 or 3) with values in `[0, 1]` for PNG and JPEG;
    ///     any shape of rank 2…4 for `.npy`.
    ///   - url: the file to write; its extension picks the format.
    ///   - quality: JPEG quality, 1…100.
    /// - Throws: ``ImageIOError`` naming the file.
    public static func save(_ tensor: Tensor, to url: URL, quality: Int = defaultJPEGQuality) throws(ImageIOError) {
        try write(tensor, to: url.path, quality: quality)
    }

    /// Reads a `.png`, `.jpg` / `.jpeg` or `.npy` file as an `[N, C, H, W]` tensor.
    /// - Throws: ``ImageIOError`` naming the file: missing, unreadable, not a PNG / JPEG / `.npy`, truncated,
    ///   unsupported bit depth or colour space, an `.npy` of another rank or dtype.
    public static func read(_ path: String) throws(ImageIOError) -> ImageFile {
        let format = try ImageFileFormat(path: path)
        return try decode(try readData(path), format: format, path: path)
    }

    /// Decodes the bytes of a file in `format`; `path` names it in errors and notes.
    /// - Throws: ``ImageIOError`` as ``read(_:)``.
    public static func decode(_ data: Data, format: ImageFileFormat, path: String) throws(ImageIOError) -> ImageFile {
        switch format {
        case .png:
            let decoded = try PNGCodec.decode(data, path: path)
            var notes: [String] = []
            if decoded.droppedAlpha { notes.append("\(path): alpha channel dropped (\(decoded.channels == 1 ? "gray" : "RGB") kept)") }
            let tensor = try imageTensor(decoded.planes, channels: decoded.channels, height: decoded.height, width: decoded.width, path: path)
            return ImageFile(tensor: tensor, format: .png, storedRank: 3, notes: notes)
        case .jpeg:
            let decoded = try JPEGCodec.decode(data, path: path)
            let tensor = try imageTensor(decoded.planes, channels: decoded.channels, height: decoded.height, width: decoded.width, path: path)
            return ImageFile(tensor: tensor, format: .jpeg, storedRank: 3, notes: decoded.warnings.map { "\(path): \($0)" })
        case .npy:
            let stored: Tensor
            do { stored = try Tensor(npyData: data) } catch let error as CNNKitError {
                throw ImageIOError(.notRecognised, path: path, problem: "not a float .npy array (\(error.value); expected \(error.expected))")
            } catch {
                throw ImageIOError(.notRecognised, path: path, problem: "not a float .npy array (\(error))")
            }
            guard (2...4).contains(stored.rank) else {
                throw ImageIOError(
                    .unsupported, path: path,
                    problem: "array shape \(stored.shape); expected [H, W], [C, H, W] or [N, C, H, W]")
            }
            let shape = Array(repeating: 1, count: 4 - stored.rank) + stored.shape
            let tensor: Tensor
            do { tensor = try stored.reshaped(shape) } catch { throw ImageIOError(.corrupt, path: path, problem: "\(error)") }
            return ImageFile(tensor: tensor, format: .npy, storedRank: stored.rank)
        }
    }

    private static func imageTensor(_ planes: [Float], channels: Int, height: Int, width: Int, path: String) throws(ImageIOError) -> Tensor {
        do { return try Tensor(shape: [1, channels, height, width], scalars: planes) } catch {
            throw ImageIOError(.corrupt, path: path, problem: "\(error)")
        }
    }

    /// Writes `tensor` to `path` in the format of its extension, atomically.
    /// - Parameters:
    ///   - tensor: the image or array (see ``save(_:to:quality:)``).
    ///   - path: the file to write; its extension picks the format.
    ///   - normalize: PNG and JPEG: stretch min…max to 0…255 instead of clamping `[0, 1]`.
    ///   - npyRank: `.npy` only: drop leading size-1 axes down to this rank (2, 3 or 4) where possible.
    ///   - quality: JPEG only: 1…100.
    /// - Throws: ``ImageIOError`` naming the file: unknown extension, a tensor PNG / JPEG cannot hold, a quality
    ///   outside 1…100, an unwritable destination.
    public static func write(
        _ tensor: Tensor, to path: String, normalize: Bool = false, npyRank: Int = 4, quality: Int = defaultJPEGQuality
    ) throws(ImageIOError) {
        let data = try encode(tensor, as: try ImageFileFormat(path: path), normalize: normalize, npyRank: npyRank, quality: quality, path: path)
        try writeAtomically(data, to: path)
    }

    /// The bytes of `tensor` as a file in `format` (the options as in ``write(_:to:normalize:npyRank:quality:)``);
    /// `path` names the file in errors.
    /// - Throws: ``ImageIOError`` of kind `.unrepresentable` for a tensor the format cannot hold or a bad quality.
    public static func encode(
        _ tensor: Tensor, as format: ImageFileFormat, normalize: Bool = false, npyRank: Int = 4,
        quality: Int = defaultJPEGQuality, path: String
    ) throws(ImageIOError) -> Data {
        switch format {
        case .png:
            let image = try pngSamples(tensor, normalize: normalize, path: path)
            return try PNGCodec.encode(
                samples: image.samples, width: image.width, height: image.height, channels: image.channels, path: path)
        case .jpeg:
            guard (1...100).contains(quality) else {
                throw ImageIOError(.unrepresentable, path: path, problem: "JPEG quality \(quality); expected 1…100")
            }
            let image = try pngSamples(tensor, normalize: normalize, path: path, format: "JPEG")
            return try JPEGCodec.encode(
                samples: image.samples, width: image.width, height: image.height, channels: image.channels,
                quality: quality, path: path)
        case .npy:
            var shape = tensor.shape
            while shape.count > max(npyRank, 2), shape.first == 1 { shape.removeFirst() }
            let squeezed = (try? tensor.reshaped(shape)) ?? tensor
            return squeezed.npyData()
        }
    }

    /// Interleaved 8-bit samples (`channels` per pixel) as planar floats `value / 255`.
    static func planarFloats(_ pixels: [UInt8], channels: Int, plane: Int) -> [Float] {
        var scale = [Float](repeating: 0, count: 256)
        for value in 0..<256 { scale[value] = Float(value) / 255 }
        return [Float](unsafeUninitializedCapacity: channels * plane) { out, initialized in
            pixels.withUnsafeBufferPointer { source in
                scale.withUnsafeBufferPointer { table in
                    if channels == 1 {
                        for p in 0..<plane { out[p] = table[Int(source[p])] }
                    } else {
                        for p in 0..<plane {
                            for c in 0..<channels { out[c * plane + p] = table[Int(source[p * channels + c])] }
                        }
                    }
                }
            }
            initialized = channels * plane
        }
    }

    /// Converts an image tensor to interleaved 8-bit samples for PNG or JPEG.
    /// - Parameters:
    ///   - tensor: `[1, C, H, W]`, `[C, H, W]` or `[H, W]` with C = 1 or 3.
    ///   - normalize: stretch min…max to 0…255 instead of clamping `[0, 1]`.
    ///   - path: the file name used in error messages.
    ///   - format: the format named in errors.
    /// - Throws: ``ImageIOError`` of kind `.unrepresentable` for any other shape.
    public static func pngSamples(
        _ tensor: Tensor, normalize: Bool, path: String, format: String = "PNG"
    ) throws(ImageIOError) -> (samples: [UInt8], width: Int, height: Int, channels: Int) {
        var shape = tensor.shape
        if shape.count == 2 { shape.insert(1, at: 0) }
        if shape.count == 4 {
            guard shape[0] == 1 else {
                throw ImageIOError(
                    .unrepresentable, path: path,
                    problem: "cannot store a batch of \(shape[0]) images \(tensor.shape) in one \(format); write .npy instead")
            }
            shape.removeFirst()
        }
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] > 0, shape[2] > 0 else {
            throw ImageIOError(
                .unrepresentable, path: path,
                problem: "cannot store shape \(tensor.shape) as \(format) (needs 1 gray or 3 RGB channels and a non-empty image); write .npy instead")
        }
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let plane = height * width
        var scale: Float = 1, offset: Float = 0
        if normalize {
            var low = Float.infinity, high = -Float.infinity
            for value in tensor.scalars where value.isFinite {
                low = min(low, value)
                high = max(high, value)
            }
            if low < high {
                scale = 1 / (high - low)
                offset = -low * scale
            } else {
                scale = 0
                offset = 0
            }
        }
        var samples = [UInt8](repeating: 0, count: tensor.count)
        tensor.scalars.withUnsafeBufferPointer { source in
            samples.withUnsafeMutableBufferPointer { out in
                for c in 0..<channels {
                    for p in 0..<plane {
                        let raw = source[c * plane + p]
                        var value = raw.isNaN ? 0 : raw * scale + offset
                        if normalize && raw.isInfinite { value = raw > 0 ? 1 : 0 }
                        value = min(max(value, 0), 1)
                        out[p * channels + c] = UInt8((value * 255).rounded())
                    }
                }
            }
        }
        return (samples, width, height, channels)
    }

    /// The bytes of `path`.
    /// - Throws: ``ImageIOError`` of kind `.missingFile` or `.unreadable`.
    public static func readData(_ path: String) throws(ImageIOError) -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ImageIOError(.missingFile, path: path, problem: "no such file")
        }
        guard !isFolder.boolValue else {
            throw ImageIOError(.unreadable, path: path, problem: "is a folder, not a file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImageIOError(.unreadable, path: path, problem: "cannot open for reading (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        do { return try handle.readToEnd() ?? Data() } catch {
            throw ImageIOError(.unreadable, path: path, problem: "read failed (\(error.localizedDescription))")
        }
    }

    /// Writes `data` to `path` through a temporary file in the same folder, renamed into place; on failure the
    /// temporary file is removed and `path` is left as it was.
    /// - Throws: ``ImageIOError`` of kind `.unwritable` naming the file and the system's reason.
    public static func writeAtomically(_ data: Data, to path: String) throws(ImageIOError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ImageIOError(.unwritable, path: path, problem: "cannot write: output folder \(folder) does not exist")
        }
        var template = Array("\(folder)/.\(url.lastPathComponent).tmp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ImageIOError(.unwritable, path: path, problem: "cannot write (\(String(cString: strerror(errno))))")
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(descriptor, 0o644) != 0 { failure = String(cString: strerror(errno)) }
        if close(descriptor) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ImageIOError(.unwritable, path: path, problem: "cannot write (\(failure))")
        }
    }
}
