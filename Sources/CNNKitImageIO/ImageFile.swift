import CNNKit
import Foundation

/// The two file formats of the `cnnkit` tool; the format always follows the file extension.
public enum ImageFileFormat: String, Sendable, Hashable, CaseIterable {
    /// PNG: 8-bit or 16-bit gray / RGB (alpha dropped) on read, 8-bit gray or RGB on write.
    case png
    /// NumPy `.npy`: float32 `[H, W]`, `[C, H, W]` or `[N, C, H, W]`, raw values.
    case npy

    /// The format of `path` from its extension (case-insensitive).
    /// - Throws: ``ImageIOError`` of kind `.unknownFormat` for any other extension.
    public init(path: String) throws(ImageIOError) {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": self = .png
        case "npy": self = .npy
        default:
            throw ImageIOError(.unknownFormat, path: path, problem: "unknown file type (expected a .png or .npy file name)")
        }
    }

    /// Whether `path` has a `.png` or `.npy` extension.
    public static func isSupported(_ path: String) -> Bool { (try? ImageFileFormat(path: path)) != nil }
}

/// An image or tensor read from a file, as a CNNKit feature map.
public struct ImageFile: Sendable {
    /// `[N, C, H, W]`, pixels in `[0, 1]` for PNG, raw values for `.npy`.
    public var tensor: Tensor
    /// The format it was read from.
    public var format: ImageFileFormat
    /// The rank as stored: 2, 3 or 4 for `.npy`; 3 (`[C, H, W]`) for PNG. Outputs written as `.npy` keep this rank
    /// when the batch and channel counts allow it.
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

/// Reading and writing images and tensors for the `cnnkit` tool and its tests.
///
/// - PNG in: 8- or 16-bit gray, gray+alpha, RGB, RGBA or 8-bit palette; samples map to `value / 255` or
///   `value / 65535`; an alpha channel is dropped (with a note). Bit depths 1, 2 and 4 are refused.
/// - PNG out: one image `[1, C, H, W]` (or `[C, H, W]`, `[H, W]`) with C = 1 (gray) or 3 (RGB); values are
///   clamped to `[0, 1]` and scaled to 0–255, or min–max stretched when `normalize` is set. NaN writes as 0.
/// - `.npy` in/out: float32 `[H, W]`, `[C, H, W]` or `[N, C, H, W]`, raw values.
///
/// Every write goes to a temporary file in the destination folder and is renamed into place, so a failed run never
/// leaves a partial output file.
public enum ImageIO {
    /// Reads a `.png` or `.npy` file as an `[N, C, H, W]` tensor.
    /// - Throws: ``ImageIOError`` naming the file: missing, unreadable, not a PNG / `.npy`, truncated, unsupported
    ///   bit depth, an `.npy` of another rank or dtype.
    public static func read(_ path: String) throws(ImageIOError) -> ImageFile {
        let format = try ImageFileFormat(path: path)
        let data = try readData(path)
        switch format {
        case .png:
            let decoded = try PNGCodec.decode(data, path: path)
            var notes: [String] = []
            if decoded.droppedAlpha { notes.append("\(path): alpha channel dropped (\(decoded.channels == 1 ? "gray" : "RGB") kept)") }
            let tensor: Tensor
            do {
                tensor = try Tensor(shape: [1, decoded.channels, decoded.height, decoded.width], scalars: decoded.planes)
            } catch {
                throw ImageIOError(.corrupt, path: path, problem: "\(error)")
            }
            return ImageFile(tensor: tensor, format: .png, storedRank: 3, notes: notes)
        case .npy:
            let stored: Tensor
            do { stored = try Tensor(npyData: data) } catch let error as CNNKitError {
                throw ImageIOError(.notRecognised, path: path, problem: "not a float32 .npy array (\(error.value); expected \(error.expected))")
            } catch {
                throw ImageIOError(.notRecognised, path: path, problem: "not a float32 .npy array (\(error))")
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

    /// Writes `tensor` to `path` in the format of its extension, atomically.
    /// - Parameters:
    ///   - normalize: PNG only: stretch min…max to 0…255 instead of clamping `[0, 1]`.
    ///   - npyRank: `.npy` only: drop leading size-1 axes down to this rank (2, 3 or 4) where possible.
    /// - Throws: ``ImageIOError`` naming the file: unknown extension, a tensor PNG cannot hold, an unwritable
    ///   destination.
    public static func write(_ tensor: Tensor, to path: String, normalize: Bool = false, npyRank: Int = 4) throws(ImageIOError) {
        switch try ImageFileFormat(path: path) {
        case .png:
            let image = try pngSamples(tensor, normalize: normalize, path: path)
            let data = try PNGCodec.encode(
                samples: image.samples, width: image.width, height: image.height, channels: image.channels, path: path)
            try writeAtomically(data, to: path)
        case .npy:
            var shape = tensor.shape
            while shape.count > max(npyRank, 2), shape.first == 1 { shape.removeFirst() }
            let squeezed = (try? tensor.reshaped(shape)) ?? tensor
            try writeAtomically(squeezed.npyData(), to: path)
        }
    }

    /// Converts an image tensor to interleaved 8-bit samples for PNG.
    /// - Parameter tensor: `[1, C, H, W]`, `[C, H, W]` or `[H, W]` with C = 1 or 3.
    /// - Throws: ``ImageIOError`` of kind `.unrepresentable` for any other shape.
    public static func pngSamples(
        _ tensor: Tensor, normalize: Bool, path: String
    ) throws(ImageIOError) -> (samples: [UInt8], width: Int, height: Int, channels: Int) {
        var shape = tensor.shape
        if shape.count == 2 { shape.insert(1, at: 0) }
        if shape.count == 4 {
            guard shape[0] == 1 else {
                throw ImageIOError(
                    .unrepresentable, path: path,
                    problem: "cannot store a batch of \(shape[0]) images \(tensor.shape) in one PNG; write .npy instead")
            }
            shape.removeFirst()
        }
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] > 0, shape[2] > 0 else {
            throw ImageIOError(
                .unrepresentable, path: path,
                problem: "cannot store shape \(tensor.shape) as PNG (needs 1 gray or 3 RGB channels and a non-empty image); write .npy instead")
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
