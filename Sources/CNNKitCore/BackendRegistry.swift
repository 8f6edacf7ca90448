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

    /// Puts `backend` in the place of the registered backend of the same name (keeping the dispatch order), or
    /// first when there is none.
    public func replace(_ backend: any Backend) {
        backends.withLock { list in
            if let index = list.firstIndex(where: { $0.name == backend.name }) {
                list[index] = backend
            } else {
                list.insert(backend, at: 0)
            }
        }
    }

    /// The backend registered under `name`.
    public func backend(named name: String) -> (any Backend)? {
        backends.withLock { list in list.first { $0.name == name } }
    }

    /// Prepares a problem on the selected backend: the named one, or (automatic) the first in dispatch order
    /// whose `prepare` does not decline. This is the only place where a declined problem falls back to another
    /// backend.
    /// - Parameters:
    ///   - selection: a backend name, or automatic dispatch.
    ///   - problem: the canonical problem string, quoted in errors and in the verbose log.
    ///   - prepare: asks one backend to prepare the problem; a ``CNNKitError`` of kind `.unsupported` declines.
    /// - Returns: the prepared operator and the name of the backend that prepared it.
    /// - Throws: ``CNNKitError`` of kind `.unsupported` when the named backend does not exist or declines, or when
    ///   no backend accepts the problem; any other error `prepare` throws (e.g. bad constants) as it is.
    public func prepare<Prepared>(
        _ selection: BackendSelection, problem: String, _ prepare: (any Backend) throws -> Prepared
    ) throws -> (prepared: Prepared, backend: String) {
        let list = backends.withLock { $0 }
        switch selection {
        case .named(let name):
            guard let backend = list.first(where: { $0.name == name }) else {
                throw CNNKitError(
                    kind: .unsupported, parameter: "backend", value: name,
                    expected: "one of \(list.map(\.name).joined(separator: ", ")) or auto", problem: problem)
            }
            let prepared = try Self.prepare(on: backend, problem: problem, prepare)
            log("\(problem): ran on \(name) (requested)")
            return (prepared, name)
        case .automatic:
            var declined: [String] = []
            for backend in list {
                do {
                    let prepared = try Self.prepare(on: backend, problem: problem, prepare)
                    log("\(problem): ran on \(backend.name)" + (declined.isEmpty ? "" : "; declined: " + declined.joined(separator: "; ")))
                    return (prepared, backend.name)
                } catch let error as CNNKitError where error.kind == .unsupported {
                    declined.append("\(backend.name): \(error.expected)")
                }
            }
            throw CNNKitError(
                kind: .unsupported, parameter: "backend", value: "auto",
                expected: "a registered backend that supports this problem (declined: \(declined.joined(separator: "; ")))",
                problem: problem)
        }
    }

    /// One backend's `prepare`, its errors tagged with the problem string.
    package static func prepare<Prepared>(
        on backend: any Backend, problem: String, _ prepare: (any Backend) throws -> Prepared
    ) throws -> Prepared {
        try quotingProblem(problem) { try prepare(backend) }
    }

    private func log(_ message: String) {
        guard verbose else { return }
        FileHandle.standardError.write(Data("cnnkit: \(message)\n".utf8))
    }
}
