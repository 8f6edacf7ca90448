/// The one error type CNNKit throws.
///
/// Every message names the parameter, the value it had and what was expected, and (where a descriptor is
/// involved) quotes the canonical problem string, e.g.
/// `mb1ic3ih8iw8_oc4kh3kw3_sh0sw1_ph0pw0_dh1dw1_g1: strides = [0, 1]; expected every value >= 1`.
public struct CNNKitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is.
    public enum Kind: String, Sendable, Hashable {
        /// A parameter value is outside its domain (zero stride, negative pad, unknown mode, …).
        case invalidArgument
        /// Tensor shapes or ranks do not fit together or do not fit the descriptor.
        case shapeMismatch
        /// A size product or extent does not fit in `Int`.
        case overflow
        /// A file could not be read or written, or is not in the expected format.
        case io
        /// No registered backend accepts the problem, or a named backend does not exist.
        case unsupported
        /// Memory for an output or a kernel's workspace could not be allocated.
        case outOfMemory
    }

    public var kind: Kind
    /// The parameter at fault, e.g. `strides`, `weight.shape`, `scales`.
    public var parameter: String
    /// The offending value, as text.
    public var value: String
    /// What the parameter should have been.
    public var expected: String
    /// The canonical problem string of the descriptor involved, if any.
    public var problem: String?

    public init(kind: Kind, parameter: String, value: String, expected: String, problem: String? = nil) {
        self.kind = kind
        self.parameter = parameter
        self.value = value
        self.expected = expected
        self.problem = problem
    }

    /// An invalid parameter value.
    public static func invalidArgument(
        _ parameter: String, value: String, expected: String, kind: Kind = .invalidArgument
    ) -> CNNKitError {
        CNNKitError(kind: kind, parameter: parameter, value: value, expected: expected)
    }

    /// Shapes that do not fit together.
    public static func shapeMismatch(_ parameter: String, value: String, expected: String) -> CNNKitError {
        CNNKitError(kind: .shapeMismatch, parameter: parameter, value: value, expected: expected)
    }

    /// The same error, tagged with a canonical problem string (kept if one is already set).
    public func quoting(_ problem: String) -> CNNKitError {
        var copy = self
        if copy.problem == nil { copy.problem = problem }
        return copy
    }

    public var description: String {
        let body = "\(parameter) = \(value); expected \(expected)"
        return problem.map { "\($0): \(body)" } ?? body
    }
}

/// Runs `body` and tags any ``CNNKitError`` it throws with `problem`.
@inline(__always)
package func quotingProblem<T>(_ problem: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as CNNKitError { throw error.quoting(problem()) }
}
