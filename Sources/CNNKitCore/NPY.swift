import Foundation

/// Reading and writing NumPy `.npy` files (format version 1.0 / 2.0 / 3.0 on read, 1.0 on write).
///
/// Read, into a ``Tensor`` (`Float`):
/// - `f4` (float32), as stored;
/// - `f8` (float64, NumPy's default dtype), **converted to float32** by rounding to nearest: values beyond
///   float32's range become ±infinity, tiny values may become subnormal or zero, NaN stays NaN;
/// - `u1` (uint8, e.g. an 8-bit image saved with NumPy), as the raw values 0…255.
///
/// Read, into an ``IndexTensor`` (`Int64`): `i8` (int64).
///
/// Either byte order (`<` little-endian, `>` big-endian, `=` native; `|` only for the single-byte `u1`) and
/// either memory order: a Fortran-order (`fortran_order: True`) array is transposed on read, so the tensor
/// always holds C-order (row-major) elements of the shape the header states.
///
/// Written: little-endian, C-order `<f4` (``Tensor``) or `<i8` (``IndexTensor``), version 1.0, the header padded
/// so that the data starts at a multiple of 64 bytes.
///
/// A malformed file (bad magic, a header that is not a NumPy header dictionary, an unknown dtype, a negative or
/// overflowing shape, truncated data) throws a ``CNNKitError`` of kind `.io` whose description is one line; no
/// input makes the reader trap.
extension DenseTensor {
    /// Decodes a tensor from the bytes of an `.npy` file.
    ///
    /// A ``Tensor`` reads float32, float64 (converted to float32) and uint8 data; an ``IndexTensor`` reads int64.
    /// Both byte orders and both memory orders are read (Fortran order is transposed to C order).
    /// - Throws: ``CNNKitError`` of kind `.io` (parameter `npy`) when the magic string or header is malformed, the
    ///   dtype is not one this scalar type reads, the shape is invalid, or the data is truncated.
    public init(npyData data: Data) throws {
        let (shape, scalars) = try data.withUnsafeBytes { raw throws -> ([Int], [Scalar]) in
            try NPYReader.decode(UnsafeRawBufferPointer(raw), as: Scalar.self)
        }
        self.init(validatedShape: shape, scalars: scalars)
    }

    /// Reads a tensor from an `.npy` file (see ``init(npyData:)`` for the dtypes and orders read).
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

    /// Encodes the tensor as `.npy` (version 1.0) bytes: little-endian, C order.
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
}

/// The `.npy` decoder behind ``DenseTensor/init(npyData:)``.
enum NPYReader {
    /// Element types as stored in a file.
    enum StoredType: Equatable {
        case float32, float64, int64, uint8

        var size: Int {
            switch self {
            case .float32: return 4
            case .float64, .int64: return 8
            case .uint8: return 1
            }
        }
    }

    static func fail(_ value: String, _ expected: String) -> CNNKitError {
        CNNKitError(kind: .io, parameter: "npy", value: oneLine(value), expected: expected)
    }

    /// `text` with control characters escaped and cut to 100 characters, so that a message stays one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if out.unicodeScalars.count >= 100 { out += "…"; break }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func decode<Scalar: TensorScalar>(_ bytes: UnsafeRawBufferPointer, as _: Scalar.Type) throws -> ([Int], [Scalar]) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, zip(bytes.prefix(6), magic).allSatisfy({ $0 == $1 }) else {
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
        guard headerLength <= bytes.count - headerStart else {
            throw fail("truncated header (\(headerLength) bytes announced, \(bytes.count - headerStart) present)", "a complete header")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<headerStart + headerLength])
        // Versions 1 and 2 store latin-1 text, version 3 UTF-8; every valid header is ASCII.
        let header = major == 3
            ? String(decoding: headerBytes, as: UTF8.self)
            : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        let fields = try HeaderParser.parse(header)

        guard let descrValue = fields["descr"] else { throw fail(header, "a header with a 'descr' entry") }
        guard case .string(let descr) = descrValue else {
            throw fail("descr \(descrValue)", "a plain dtype string such as '<f4' (structured dtypes are not read)")
        }
        let (stored, swap) = try storedType(descr, for: Scalar.self)

        guard let fortranValue = fields["fortran_order"] else { throw fail(header, "a header with a 'fortran_order' entry") }
        guard case .bool(let fortran) = fortranValue else { throw fail("fortran_order \(fortranValue)", "True or False") }

        guard let shapeValue = fields["shape"] else { throw fail(header, "a header with a 'shape' entry") }
        guard case .tuple(let extents) = shapeValue else { throw fail("shape \(shapeValue)", "a tuple of integers") }
        let shape = extents
        let count: Int
        do { count = try DenseTensor<Scalar>.elementCount(of: shape, parameter: "npy.shape") } catch var error as CNNKitError {
            error.kind = .io
            throw error
        }

        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: stored.size)
        guard !overflow, available >= byteCount else {
            throw fail(
                "\(available) data bytes", overflow ? "a shape whose byte size fits in Int" : "\(byteCount) bytes for shape \(shape) of \(descr)")
        }
        let source = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + byteCount])
        var scalars: [Scalar]
        if Scalar.self == Float.self {
            scalars = convertToFloat(source, stored, swap: swap, count: count) as! [Scalar]
        } else {
            scalars = convertToInt64(source, swap: swap, count: count) as! [Scalar]
        }
        if fortran && shape.count > 1 && count > 1 { scalars = fortranToC(scalars, shape: shape) }
        return (shape, scalars)
    }

    /// The stored element type of `descr` and whether its bytes need swapping on this machine.
    static func storedType<Scalar>(_ descr: String, for _: Scalar.Type) throws -> (StoredType, swap: Bool) {
        let readsFloat = Scalar.self == Float.self
        guard readsFloat || Scalar.self == Int64.self else {
            throw fail("element type \(Scalar.self)", "a Float or Int64 tensor (the .npy reader fills no other type)")
        }
        let accepted = readsFloat ? "'<f4', '<f8', '|u1' (either byte order for f4 and f8)" : "'<i8' (or '>i8')"
        guard let order = descr.first, "<>|=".contains(order) else {
            throw fail("dtype '\(descr)'", "a dtype with a byte-order character: \(accepted)")
        }
        let code = descr.dropFirst()
        let stored: StoredType
        switch (code, readsFloat) {
        case ("f4", true): stored = .float32
        case ("f8", true): stored = .float64
        case ("u1", true): stored = .uint8
        case ("i8", false): stored = .int64
        default:
            throw fail("dtype '\(descr)'", "\(accepted) for \(readsFloat ? "a float32 tensor" : "an int64 tensor")")
        }
        if order == "|" && stored.size != 1 {
            throw fail("dtype '\(descr)'", "'<\(code)' or '>\(code)' ('|' marks single-byte types only)")
        }
        let littleEndianHost = 1.littleEndian == 1
        let swap = stored.size > 1 && ((order == "<" && !littleEndianHost) || (order == ">" && littleEndianHost))
        return (stored, swap)
    }

    static func convertToFloat(_ source: UnsafeRawBufferPointer, _ stored: StoredType, swap: Bool, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch stored {
            case .float32:
                for i in 0..<count {
                    let bits = source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    out[i] = Float(bitPattern: swap ? bits.byteSwapped : bits)
                }
            case .float64:
                for i in 0..<count {
                    let bits = source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    out[i] = Float(Double(bitPattern: swap ? bits.byteSwapped : bits))
                }
            case .uint8:
                for i in 0..<count { out[i] = Float(source[i]) }
            case .int64:
                for i in 0..<count { out[i] = 0 }  // not reachable: storedType refuses i8 for Float
            }
            initialized = count
        }
    }

    static func convertToInt64(_ source: UnsafeRawBufferPointer, swap: Bool, count: Int) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                out[i] = Int64(bitPattern: swap ? bits.byteSwapped : bits)
            }
            initialized = count
        }
    }

    /// Column-major (first axis fastest) elements of `shape`, reordered to row-major.
    static func fortranToC<T>(_ source: [T], shape: [Int]) -> [T] {
        let rank = shape.count
        var fortranStrides = [Int](repeating: 1, count: rank)
        for axis in 1..<rank { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        var out: [T] = []
        out.reserveCapacity(source.count)
        for _ in 0..<source.count {
            out.append(source[offset])
            // Advance the C-order multi-index (last axis fastest), keeping the Fortran offset in step.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += fortranStrides[axis]
                if index[axis] < shape[axis] { break }
                offset -= fortranStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}

/// A parser for the Python dictionary literal of an `.npy` header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), }`: string keys; values that are strings,
/// `True` / `False`, or tuples of non-negative integers. Anything else (a structured dtype's list, say) is kept as
/// `.other` so that the caller can say what it found.
enum HeaderParser {
    enum Value: CustomStringConvertible {
        case string(String)
        case bool(Bool)
        case tuple([Int])
        case other(String)

        var description: String {
            switch self {
            case .string(let text): return "'\(text)'"
            case .bool(let value): return value ? "True" : "False"
            case .tuple(let items): return "(" + items.map(String.init).joined(separator: ", ") + ")"
            case .other(let text): return text
            }
        }
    }

    static func parse(_ header: String) throws -> [String: Value] {
        let characters = Array(header.unicodeScalars)
        var position = 0
        func fail(_ what: String) -> CNNKitError {
            NPYReader.fail("header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) (\(what))",
                           "a NumPy header dictionary such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
        }
        func skipSpace() { while position < characters.count, characters[position].properties.isWhitespace { position += 1 } }
        func peek() -> Unicode.Scalar? { position < characters.count ? characters[position] : nil }
        func expect(_ scalar: Unicode.Scalar) throws {
            skipSpace()
            guard peek() == scalar else { throw fail("expected '\(scalar)' at offset \(position)") }
            position += 1
        }
        func quoted() throws -> String {
            skipSpace()
            guard let quote = peek(), quote == "'" || quote == "\"" else { throw fail("expected a quoted string at offset \(position)") }
            position += 1
            var text = ""
            while let scalar = peek(), scalar != quote {
                text.unicodeScalars.append(scalar)
                position += 1
            }
            guard peek() == quote else { throw fail("unterminated string") }
            position += 1
            return text
        }
        /// Skips a bracketed or bare value, returning its text (for messages).
        func rawValue() throws -> String {
            let start = position
            var depth = 0
            while let scalar = peek() {
                if scalar == "(" || scalar == "[" || scalar == "{" { depth += 1 }
                if scalar == ")" || scalar == "]" || scalar == "}" {
                    if depth == 0 { break }
                    depth -= 1
                }
                if scalar == "," && depth == 0 { break }
                if scalar == "'" || scalar == "\"" {
                    _ = try quoted()
                    continue
                }
                position += 1
            }
            guard depth == 0 else { throw fail("unbalanced brackets") }
            return String(String.UnicodeScalarView(characters[start..<position])).trimmingCharacters(in: .whitespaces)
        }
        func value() throws -> Value {
            skipSpace()
            guard let first = peek() else { throw fail("a value is missing") }
            if first == "'" || first == "\"" { return .string(try quoted()) }
            if first == "(" {
                let start = position
                position += 1
                var items: [Int] = []
                while true {
                    skipSpace()
                    if peek() == ")" { position += 1; break }
                    var digits = ""
                    while let scalar = peek(), ("0"..."9").contains(scalar) || scalar == "-" {
                        digits.unicodeScalars.append(scalar)
                        position += 1
                    }
                    if peek() == "L" || peek() == "l" { position += 1 }  // Python 2 long literals
                    guard let extent = Int(digits) else {
                        position = start
                        return .other(try rawValue())
                    }
                    items.append(extent)
                    skipSpace()
                    if peek() == "," { position += 1; continue }
                    guard peek() == ")" else { throw fail("expected ',' or ')' in the shape tuple at offset \(position)") }
                    position += 1
                    break
                }
                return .tuple(items)
            }
            let text = try rawValue()
            if text == "True" { return .bool(true) }
            if text == "False" { return .bool(false) }
            return .other(text.isEmpty ? "(empty)" : text)
        }

        try expect("{")
        var fields: [String: Value] = [:]
        while true {
            skipSpace()
            if peek() == "}" { position += 1; break }
            let key = try quoted()
            try expect(":")
            let entry = try value()
            guard fields[key] == nil else { throw fail("key '\(key)' appears twice") }
            fields[key] = entry
            skipSpace()
            if peek() == "," { position += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard position == characters.count else { throw fail("text after the closing brace") }
        return fields
    }
}
