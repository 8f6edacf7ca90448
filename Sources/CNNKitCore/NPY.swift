import Foundation

/// Reading and writing NumPy `.npy` files (format version 1.0 / 2.0 / 3.0 on read, 1.0 on write).
///
/// CNNKit reads and writes little-endian, C-order `<f4` (float32) and `<i8` (int64) arrays, the field's
/// interchange format for tensors. Fortran order, big-endian data and other dtypes are rejected with an error.
extension DenseTensor {
    /// Decodes a tensor from the bytes of an `.npy` file.
    /// - Throws: ``CNNKitError`` of kind `.io` when the header is malformed, the dtype is not
    ///   `Scalar.npyDescriptor`, the array is in Fortran order, or the data is truncated.
    public init(npyData data: Data) throws {
        let bytes = [UInt8](data)
        func fail(_ what: String, _ expected: String) -> CNNKitError {
            CNNKitError(kind: .io, parameter: "npy", value: what, expected: expected)
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("missing magic string", "a file starting with \\x93NUMPY")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header", "a complete header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("format version \(major)", "version 1, 2 or 3")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8)
        else { throw fail("truncated header", "a complete header") }

        guard let descr = Self.headerValue(header, key: "descr") else { throw fail(header, "a 'descr' entry") }
        let descriptor = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let scalarSize = MemoryLayout<Scalar>.size
        // '|' is how NumPy writes single-byte types; accept '=' as native (little-endian here).
        let normalised = descriptor.replacingOccurrences(of: "=", with: "<")
        guard normalised == Scalar.npyDescriptor else {
            throw fail("dtype \(descriptor)", "dtype \(Scalar.npyDescriptor)")
        }
        guard let fortran = Self.headerValue(header, key: "fortran_order"), fortran.hasPrefix("False") else {
            throw fail("fortran_order True", "C order (fortran_order False)")
        }
        guard let shapeText = Self.headerValue(header, key: "shape"),
              let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")")
        else { throw fail(header, "a 'shape' tuple") }
        let items = shapeText[shapeText.index(after: open)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for item in items {
            guard let extent = Int(item) else { throw fail("shape \(shapeText)", "integer extents") }
            shape.append(extent)
        }
        let count = try Self.elementCount(of: shape, parameter: "npy.shape")
        let dataStart = headerStart + headerLength
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: scalarSize)
        guard !overflow, bytes.count - dataStart >= byteCount else {
            throw fail("\(bytes.count - dataStart) data bytes", "\(count * scalarSize) bytes for shape \(shape)")
        }
        var scalars = [Scalar](repeating: .zero, count: count)
        scalars.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[dataStart..<dataStart + byteCount]))
            }
        }
        self.init(validatedShape: shape, scalars: scalars)
    }

    /// Reads a tensor from an `.npy` file.
    /// - Throws: ``CNNKitError`` of kind `.io` when the file cannot be read or is not a matching `.npy` array.
    public init(npyFile url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CNNKitError(kind: .io, parameter: "file", value: url.path, expected: "a readable .npy file")
        }
        do { try self.init(npyData: data) } catch var error as CNNKitError {
            error.parameter = "\(url.path)"
            throw error
        }
    }

    /// Encodes the tensor as `.npy` (version 1.0) bytes.
    public func npyData() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(Scalar.npyDescriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that magic + version + length + header + "\n" is a multiple of 64 bytes.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        scalars.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Writes the tensor to an `.npy` file atomically (temporary file, then rename).
    /// - Throws: ``CNNKitError`` of kind `.io` when the file cannot be written.
    public func writeNPY(to url: URL) throws {
        do { try npyData().write(to: url, options: .atomic) } catch {
            throw CNNKitError(kind: .io, parameter: "file", value: url.path, expected: "a writable location")
        }
    }

    /// The raw text after `'key':` in a NumPy header dictionary, up to the next top-level comma.
    private static func headerValue(_ header: String, key: String) -> String? {
        for quote in ["'", "\""] {
            guard let range = header.range(of: "\(quote)\(key)\(quote)") else { continue }
            var rest = header[range.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            var depth = 0
            var end = rest.startIndex
            while end < rest.endIndex {
                let character = rest[end]
                if character == "(" { depth += 1 }
                if character == ")" { depth -= 1 }
                if (character == "," || character == "}") && depth == 0 { break }
                end = rest.index(after: end)
            }
            return String(rest[rest.startIndex..<end])
        }
        return nil
    }
}
