/// A JSON value as it appears in a conformance manifest (`case.json`), used for ONNX attributes and for the
/// free-form notes (`disputed`, `implementation_defined`).
///
/// Numbers keep the distinction JSON text makes: a literal without fraction or exponent that fits in `Int64`
/// decodes as ``int(_:)``, any other number as ``number(_:)``. ONNX float attributes are float32 values printed as
/// doubles (`0.10000000149011612`), so ``floatValue`` converts them back exactly.
public enum JSONValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer literal that fits in `Int64`.
    case int(Int64)
    /// Any other number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object (key order is not kept).
    case object([String: JSONValue])

    /// Decodes any JSON value.
    /// - Throws: `DecodingError.dataCorrupted` when the value is none of the JSON kinds (not reachable with
    ///   `JSONDecoder`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Encodes the value as the matching JSON kind.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as an `Int` when it is an integer (an integral ``number(_:)`` such as `2.0` counts), else `nil`.
    public var intValue: Int? {
        switch self {
        case .int(let value): return Int(exactly: value)
        case .number(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The value as a `Double` when it is a number, else `nil`.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    /// The value as a `Float` (the float32 an ONNX float attribute holds) when it is a number, else `nil`.
    public var floatValue: Float? { doubleValue.map { Float($0) } }

    /// The string when the value is a ``string(_:)``, else `nil`.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements when the value is an ``array(_:)``, else `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Compact JSON-like text: `3`, `0.5`, `"SAME_UPPER"`, `[1, 2]`, `{"a": 1}`.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .number(let value): return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .array(let value): return "[" + value.map(\.description).joined(separator: ", ") + "]"
        case .object(let value):
            return "{" + value.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    /// Human-readable text of a note: a string as it is, an array of strings joined with `; `, anything else as JSON.
    public var noteText: String {
        switch self {
        case .string(let value): return value
        case .array(let values): return values.map(\.noteText).joined(separator: "; ")
        default: return description
        }
    }
}
