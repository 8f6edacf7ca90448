import Foundation
import Synchronization

/// Which backend runs an operator.
public enum BackendSelection: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The first backend in the registry's order that supports the problem (the reference backend is last).
    case automatic
    /// The backend registered under this name; an error if it does not exist or declines the problem.
    case named(String)

    /// `"auto"` is ``automatic``; any other string names a backend.
    public init(_ name: String) { self = name == "auto" ? .automatic : .named(name) }
    public init(stringLiteral value: String) { self.init(value) }

    public var description: String {
        switch self {
        case .automatic: return "auto"
        case .named(let name): return name
        }
    }
}

/// The ordered list of backends; dispatch takes the first that supports a problem.
///
/// ``shared`` holds the built-in backends (``BackendRegistry/builtinBackends``), fastest first and the reference
/// backend last. Another backend joins with ``register(_:)``. With the environment variable `CNNKIT_VERBOSE=1`,
/// every dispatch prints to standard error which backend ran and why the ones before it declined.
public final class BackendRegistry: Sendable {
    /// The process-wide registry that CNNKit's operator functions use by default.
    public static let shared = BackendRegistry(builtinBackends)

    private let backends: Mutex<[any Backend]>
    private let verbose = ProcessInfo.processInfo.environment["CNNKIT_VERBOSE"] == "1"

    /// A registry holding `backends` in dispatch order.
    public init(_ backends: [any Backend]) {
        self.backends = Mutex(backends)
    }

    /// Backend names in dispatch order.
    public var names: [String] { backends.withLock { $0.map(\.name) } }

    /// Adds `backend` ahead of the existing ones (so it is tried first), replacing one of the same name.
    public func register(_ backend: any Backend) {
        backends.withLock { list in
            list.removeAll { $0.name == backend.name }
            list.insert(backend, at: 0)
        }
    }

    /// The backend registered under `name`.
    public func backend(named name: String) -> (any Backend)? {
        backends.withLock { list in list.first { $0.name == name } }
    }

    /// Picks the backend for a problem of one family.
    /// - Parameters:
    ///   - selection: a backend name, or automatic dispatch.
    ///   - family: the family protocol, e.g. `(any ConvolutionBackend).self`.
    ///   - problem: the canonical problem string, quoted in errors and in the verbose log.
    ///   - support: asks a backend of that family whether it accepts the problem.
    /// - Throws: ``CNNKitError`` of kind `.unsupported` when the named backend does not exist, does not implement
    ///   the family, or declines the problem, or when no backend accepts it.
    public func select<Family>(
        _ selection: BackendSelection, as family: Family.Type, problem: String, support: (Family) -> Support
    ) throws -> Family {
        let list = backends.withLock { $0 }
        switch selection {
        case .named(let name):
            guard let backend = list.first(where: { $0.name == name }) else {
                throw CNNKitError(
                    kind: .unsupported, parameter: "backend", value: name,
                    expected: "one of \(list.map(\.name).joined(separator: ", ")) or auto", problem: problem)
            }
            guard let member = backend as? Family else {
                throw CNNKitError(
                    kind: .unsupported, parameter: "backend", value: name,
                    expected: "a backend that implements \(Family.self)", problem: problem)
            }
            if case .unsupported(let reason) = support(member) {
                throw CNNKitError(
                    kind: .unsupported, parameter: "backend", value: name,
                    expected: "a backend that supports this problem (\(reason))", problem: problem)
            }
            log("\(problem): ran on \(name) (requested)")
            return member
        case .automatic:
            var declined: [String] = []
            for backend in list {
                guard let member = backend as? Family else { continue }
                switch support(member) {
                case .supported:
                    log("\(problem): ran on \(backend.name)" + (declined.isEmpty ? "" : "; declined: " + declined.joined(separator: "; ")))
                    return member
                case .unsupported(let reason):
                    declined.append("\(backend.name): \(reason)")
                }
            }
            throw CNNKitError(
                kind: .unsupported, parameter: "backend", value: "auto",
                expected: "a registered backend that supports this problem (declined: \(declined.joined(separator: "; ")))",
                problem: problem)
        }
    }

    private func log(_ message: String) {
        guard verbose else { return }
        FileHandle.standardError.write(Data("cnnkit: \(message)\n".utf8))
    }
}
